# The judge: turns what a guest left in a results directory into one line
# per result, "[TAG] PASS|FAIL|SKIP|KNOWN name (detail)", and counts them.
# KNOWN: a known kernel bug (docs/upstream/README.rst) that its reproducer
# showed in this kernel: shown on every run that reproduces it, never a
# pass and not a failure of swgpu; counted as skipped (and apart).
# Sourced by tools/check.sh; every kernel is judged by these functions.
#
# The caller sets: binaries (the IGT binaries that ran), verbose (0|1),
# vm_timeout (s), SWGPU_TEST_TIMEOUT, VM (tools/vm). The counters passed,
# failed, skipped, known and real_tests (IGT subtests and KTAP cases of a
# test module that ran) start at 0 here.
# shellcheck shell=bash

passed=0 failed=0 skipped=0 known=0 real_tests=0

# report TAG PASS|FAIL|SKIP|KNOWN|INFRA NAME [DETAIL]
# KNOWN is a known kernel bug, reproduced (judge_kbugs): neither a pass
# nor swgpu's failure; it counts as skipped and in known, and the end of
# the run lists them. FAIL, KNOWN and INFRA lines are also appended to
# $SWGPU_RECAP when it is set, so that the end of a long run repeats them
# (CI shows only its tail). INFRA is not counted: it says a guest was
# retried.
report() {
	local tag="$1" status="$2" name="$3" detail="${4:-}" line
	case "$status" in
	PASS) passed=$((passed + 1)) ;;
	FAIL) failed=$((failed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	KNOWN) known=$((known + 1)) skipped=$((skipped + 1)) ;;
	esac
	line="[$tag] $status $name${detail:+ ($detail)}"
	echo "$line"
	if [[ -n "${SWGPU_RECAP:-}" && ( "$status" == FAIL || "$status" == KNOWN || "$status" == INFRA ) ]]; then
		echo "$line" >>"$SWGPU_RECAP"
	fi
}

# IGT stdout of one binary -> "RESULT NAME" lines. Dynamic subtests become
# binary/subtest@dynamic; their parent counts only if it failed by itself.
parse_igt() {
	awk -v bin="$1" '
	/^Starting subtest: / { parent = $3; next }
	/^Dynamic subtest [^ ]+: [A-Z]+/ {
		name = $3; sub(/:$/, "", name)
		print $4, bin "/" parent "@" name
		dyn[parent] = 1
		next
	}
	/^Subtest [^ ]+: [A-Z]+/ {
		name = $2; sub(/:$/, "", name)
		if (dyn[name] && ($3 == "SUCCESS" || $3 == "SKIP")) next
		print $3, bin "/" name
	}' "$2"
}

# KTAP file -> "PASS|FAIL|SKIP<tab>NAME<tab>REASON" lines (REASON: what
# follows "# SKIP" or a failed case's "#", else empty). Nested results are
# named suite/case; a parent line counts only if it failed with no failed
# child.
parse_ktap() {
	awk -v prefix="$1" '
	/^[ \t]*# Subtest: / {
		d = match($0, /[^ \t]/) - 1
		s = $0; sub(/^[ \t]*# Subtest: /, "", s)
		suite[d] = s
		next
	}
	/^[ \t]*(not )?ok [0-9]+/ {
		d = match($0, /[^ \t]/) - 1
		line = substr($0, d + 1)
		notok = (line ~ /^not ok/)
		sub(/^(not )?ok [0-9]+[ \t]*(- )?/, "", line)
		directive = ""
		line_directive = ""
		if (match(line, /[ \t]*#/)) {
			line_directive = substr(line, RSTART + RLENGTH)
			sub(/^[ \t]+/, "", line_directive)
			directive = toupper(line_directive)
			line = substr(line, 1, RSTART - 1)
		}
		gsub(/^[ \t]+|[ \t]+$/, "", directive)
		name = (d in suite) ? suite[d] "/" line : line
		parent = (seen && last_d > d)
		seen = 1; last_d = d
		reason = line_directive
		if (directive ~ /^(SKIP|TODO)/) {
			status = "SKIP"
			sub(/^[A-Za-z]+/, "", reason)
		} else { status = notok ? "FAIL" : "PASS" }
		gsub(/^[ \t]+|[ \t]+$/, "", reason)
		if (parent) {
			delete_deeper(d)
			hadfail = child_fail; child_fail = 0
			if (status != "FAIL" || hadfail) next
		} else if (status == "FAIL" && d > 0) {
			child_fail = 1
		}
		print status "\t" prefix name "\t" reason
	}
	function delete_deeper(level,   k) {
		for (k in suite) if (k + 0 > level) delete suite[k]
	}' "$2"
}

# Judge one binary: its subtests, then its exit status.
judge_binary() {
	local tag="$1" res="$2" name="$3" rc="" status sub lines=0 fails=0
	local log="$res/$name.log"
	[[ -f "$res/$name.exit" ]] && rc="$(cat "$res/$name.exit")"
	if [[ -f "$log" ]]; then
		while read -r status sub; do
			lines=$((lines + 1))
			real_tests=$((real_tests + 1))
			case "$status" in
			SUCCESS) report "$tag" PASS "$sub" ;;
			SKIP)    report "$tag" SKIP "$sub" ;;
			*)       report "$tag" FAIL "$sub" "$status, log: $log"; fails=$((fails + 1)) ;;
			esac
		done < <(parse_igt "$name" "$log")
	fi
	case "$rc" in
	"")      report "$tag" FAIL "$name" "no exit status: it did not run or the VM died while it ran" ;;
	124|137) report "$tag" FAIL "$name" "killed after ${SWGPU_TEST_TIMEOUT}s, log: $log" ;;
	0|77)    ((lines > 0)) || report "$tag" FAIL "$name" "no subtest results (exit $rc), log: $log" ;;
	78|79|98|112)
	         ((fails > 0)) || report "$tag" FAIL "$name" "IGT exit $rc, log: $log" ;;
	*)       report "$tag" FAIL "$name" "exit $rc is not an IGT exit code, log: $log" ;;
	esac
	if ((verbose)) && [[ -f "$log" ]] && [[ "$rc" != 0 && "$rc" != 77 ]]; then
		tail -n 20 "$log" | sed 's/^/    /'
	fi
}

# Judge one kernel's results directory.
judge_results() {
	local tag="$1" res="$2" boot_rc="$3" bin f status name scan
	if [[ ! -f "$res/.vm/exit-status" ]]; then
		if ((boot_rc == 124)); then
			report "$tag" FAIL vm "timed out after ${vm_timeout}s; see $res/console.log"
		else
			report "$tag" FAIL vm "no exit status from the guest: panic, oops or VM failure; see $res/console.log"
		fi
	elif [[ "$(cat "$res/.vm/exit-status")" != 0 ]]; then
		report "$tag" FAIL guest-tests "exit $(cat "$res/.vm/exit-status"); see $res/console.log"
	fi
	for bin in "${binaries[@]}"; do
		judge_binary "$tag" "$res" "$bin"
	done
	for f in "$res"/*.ktap; do
		[[ -f "$f" ]] || continue
		name="$(basename "$f" .ktap)"
		[[ "$name" == harness ]] && prefix="" || prefix="$name/"
		while IFS=$'\t' read -r status name reason; do
			[[ -n "$prefix" ]] && real_tests=$((real_tests + 1))
			report "$tag" "$status" "$name" "$reason"
		done < <(parse_ktap "$prefix" "$f")
	done
	judge_kbugs "$tag" "$res"
	local log="$res/dmesg.txt"
	[[ -f "$log" ]] || log="$res/console.log"
	if scan="$("$VM/scan-log.sh" "$log" 2>&1)"; then
		report "$tag" PASS kernel-log
	else
		report "$tag" FAIL kernel-log "see $log"
		sed 's/^/    /' <<<"$scan"
	fi
}

# module_loaded RES MODULE: whether the guest got as far as loading MODULE
# (the guest scripts say "loaded MODULE" on the console once insmod
# returned).
module_loaded() {
	grep -qE "^guest-(load|highmem): loaded $2( |\$)" "$1/console.log" 2>/dev/null
}

# boot_guest TAG RES MODULE BOOT_ARGS...: tools/vm/boot.sh BOOT_ARGS, and
# once more when the guest died or hung before MODULE was loaded: that is
# not the module's doing, and it is reported as an infrastructure fault.
# Once the module is loaded nothing is retried. Sets boot_rc. Every
# suite boots through here (check.sh, check-install.sh): one policy.
boot_guest() {
	local tag="$1" res="$2" mod="$3"
	shift 3
	boot_rc=0
	"$VM/boot.sh" "$@" || boot_rc=$?
	if ((boot_rc == 125)) && ! module_loaded "$res" "$mod"; then
		mv "$res/console.log" "$res/console.infra-fault.log"
		report "$tag" INFRA vm "the guest died or hung before $mod was loaded; console: $res/console.infra-fault.log; retrying once"
		boot_rc=0
		"$VM/boot.sh" "$@" || boot_rc=$?
	fi
}

# Kernel bug reproducers (docs/upstream/README.rst) leave NAME.kbug files,
# one line "STATUS BUG # DETAIL" each:
#   reproduced  -> KNOWN kbug/BUG (known kernel bug (BUG), reproduced: DETAIL)
#   fixed       -> PASS  kbug/BUG (fixed in this kernel: DETAIL)
#   unobservable, n/a -> SKIP kbug/BUG (DETAIL: why it cannot be seen here)
#   error (or anything else) -> FAIL kbug/BUG: the reproducer itself broke
judge_kbugs() {
	local tag="$1" res="$2" f status bug detail
	for f in "$res"/*.kbug; do
		[[ -f "$f" ]] || continue
		while read -r status bug detail; do
			[[ -n "$status" ]] || continue
			detail="${detail#\#}" detail="${detail# }"
			real_tests=$((real_tests + 1))
			case "$status" in
			reproduced)   report "$tag" KNOWN "kbug/$bug" "known kernel bug ($bug), reproduced: $detail" ;;
			fixed)        report "$tag" PASS "kbug/$bug" "fixed in this kernel: $detail" ;;
			unobservable|n/a) report "$tag" SKIP "kbug/$bug" "$detail" ;;
			*)            report "$tag" FAIL "kbug/$bug" "the reproducer broke ($status): $detail; see $res" ;;
			esac
		done <"$f"
	done
}

# judge_kbug_oops TAG RES BOOT_RC BUG MARKER SIGNATURE: a reproducer guest
# of its own whose bug is an oops (boot.sh exit 125, no .kbug file). The
# oops must come after MARKER (the guest's line saying the reproducer
# starts) and match SIGNATURE (an extended regexp over the console from
# MARKER on): then it is the known bug, reproduced. Any other end of the
# guest is a failure of the reproducer, reported, never retried.
judge_kbug_oops() {
	local tag="$1" res="$2" boot_rc="$3" bug="$4" marker="$5" sig="$6" tail_ where
	if compgen -G "$res/*.kbug" >/dev/null; then
		judge_kbugs "$tag" "$res"
		return
	fi
	real_tests=$((real_tests + 1))
	if ! grep -qF "$marker" "$res/console.log" 2>/dev/null; then
		report "$tag" FAIL "kbug/$bug" "the guest ended (boot.sh exit $boot_rc) before the reproducer ran; see $res/console.log"
		return
	fi
	tail_="$(sed -n "/$marker/,\$p" "$res/console.log")"
	if grep -qE "$sig" <<<"$tail_"; then
		where="$(grep -oE 'EIP: [^ ]+' <<<"$tail_" | head -n1)"
		report "$tag" KNOWN "kbug/$bug" "known kernel bug ($bug), reproduced: the kernel oopsed in the reproducer${where:+ ($where)}; see $res/console.log"
	else
		report "$tag" FAIL "kbug/$bug" "the guest ended (boot.sh exit $boot_rc) in the reproducer without the known oops; see $res/console.log"
	fi
}
