#!/usr/bin/env bash
# Runs inside the guest (boot.sh's chroot); tools/check.sh starts it:
#
#   tools/vm/guest-tests.sh MODULE.ko TESTDIR KTAPDIR [BINARY[:SUBTEST]]
#   tools/vm/guest-tests.sh MODULE.ko TESTDIR KTAPDIR BINARY,BINARY,...
#
# Loads drm, vgem and MODULE with $SWGPU_MODULE_PARAMS (guest-load.sh), runs every executable
# TESTDIR/swgpu_* (or only BINARY, with --run-subtest SUBTEST; binaries
# that need a guest of their own, $SWGPU_OWN_BOOT_TESTS, default
# "swgpu_pressure", run only when named), then the
# KTAP suites (unless BINARY names another test): the kernel CPU access
# cases (swgpu_cpu_access_test.ko, next to MODULE, driven by
# KTAPDIR/cpu-access-runner) and the unload rules
# (KTAPDIR/module-lifetime-runner, which ends by unloading MODULE). It
# leaves in $SWGPU_OUT:
#   NAME.log       stdout+stderr of test binary NAME
#   NAME.exit      its exit status (124: killed after SWGPU_TEST_TIMEOUT s,
#                  default 600); absent if the guest died while it ran
#   cpu_access.ktap, module_lifetime.ktap   the KTAP suites' results
#   mesa.ktap, mesa.log  the Mesa client (KTAPDIR/mesa-client, x86_64
#                  only) and Mesa's own messages; with SWGPU_MESA_ROOT
#                  (a root of tools/mesa/mesa-root.sh) the client again
#                  with that root's Mesa: mesa-$SWGPU_MESA_ROOT_NAME.ktap
#   weston.ktap, weston/  the compositor test (tools/weston/guest-weston.sh:
#                  weston headless, GL renderer, weston-simple-dmabuf-egl's
#                  buffers from swgpu, a screenshot, its logs in weston/);
#                  with SWGPU_MESA_ROOT again with that root's weston and
#                  Mesa: weston-$SWGPU_MESA_ROOT_NAME.ktap
#   harness.ktap   the harness's own checks as KTAP: module-load,
#                  module-unload (the module must be gone at the end)
#   tier.ktap      kmemleak, on kernels that have it: cleared before the
#                  suite so boot-time objects do not count; after the suite
#                  and the unload, every "unreferenced object" fails it
#                  (reports in kmemleak.txt)
#   tier-info.txt  uname -r, the command line, memory, debug features on
#   dmesg.txt      the kernel log, dumped at the end of the suite
#   leak_canary.ktap   where kmemleak is, with an empty selection or
#                  BINARY leak_canary: the test module leaks eight tagged
#                  objects on purpose; kmemleak must report some of them
#                  and nothing else, the log scan must flag them
#                  (leak_canary-kmemleak.txt, leak_canary-dmesg.txt);
#                  after the suite's checks
#   kbug_udmabuf.kbug  the udmabuf-sg-leak reproducer (KTAPDIR/udmabuf-sync-race,
#                  docs/upstream/README.rst), run last, after dmesg.txt and
#                  the suite's kmemleak check so that the leak it provokes
#                  is judged as that bug and never as swgpu's; its kernel
#                  log in kbug_udmabuf-dmesg.txt, kmemleak's in
#                  kbug_udmabuf-kmemleak.txt
# Test results are judged on the host; this exits non-zero only when the
# harness itself breaks.
set -euo pipefail
: "${SWGPU_OUT:?run me inside tools/vm/boot.sh}"

(($# >= 3 && $# <= 4)) || { echo "usage: $0 MODULE.ko TESTDIR KTAPDIR [BINARY[:SUBTEST]]" >&2; exit 2; }
ko="$1" testdir="$2" ktapdir="$3" select="${4:-}"
here="$(dirname "${BASH_SOURCE[0]}")"
timeout_s="${SWGPU_TEST_TIMEOUT:-600}"
module="$(basename "$ko" .ko)"
module="${module//-/_}"

ktap_n=0
ktap_lines=()
ktap() {   # ktap ok|"not ok" NAME
	ktap_n=$((ktap_n + 1))
	ktap_lines+=("$1 $ktap_n $2")
}
write_ktap() {
	{
		echo "KTAP version 1"
		echo "1..$ktap_n"
		printf '%s\n' "${ktap_lines[@]}"
	} >"$SWGPU_OUT/harness.ktap"
}

kmemleak=/sys/kernel/debug/kmemleak
{
	echo "release: $(uname -r)"
	echo "cmdline: $(cat /proc/cmdline)"
	grep -E '^(MemTotal|HighTotal|LowTotal):' /proc/meminfo
	[[ -e $kmemleak ]] && echo "kmemleak: on" || echo "kmemleak: off"
	[[ -d /sys/kernel/debug/failslab ]] && echo "fault injection: failslab fail_page_alloc"
	[[ -e /proc/lockdep ]] && echo "lockdep: on"
	grep -qs 'PREEMPT_RT' /proc/version /sys/kernel/realtime && echo "preemption: PREEMPT_RT"
} >"$SWGPU_OUT/tier-info.txt" 2>&1
have_kmemleak=0
if [[ -w $kmemleak ]] && echo clear >$kmemleak 2>/dev/null; then
	have_kmemleak=1
fi

# SWGPU_MODULE_PARAMS: "name=value ..." for the module (word-split on
# purpose); boot.sh passes SWGPU_* variables through from the host.
# shellcheck disable=SC2086
if ! "$here/guest-load.sh" "$ko" ${SWGPU_MODULE_PARAMS:-}; then
	ktap "not ok" module-load
	dmesg >"$SWGPU_OUT/dmesg.txt"
	write_ktap
	exit 0
fi
ktap ok module-load

bin_filter="${select%%:*}"

# wanted NAME: whether the selection (empty: everything; else one name or
# a comma-separated list) includes test NAME.
own_boot=" ${SWGPU_OWN_BOOT_TESTS:-swgpu_pressure} "
wanted() {
	if [[ -z "$bin_filter" ]]; then
		[[ "$own_boot" != *" $1 "* ]]
	else
		[[ ",$bin_filter," == *",$1,"* ]]
	fi
}
subtest=""
[[ "$select" == *:* ]] && subtest="${select#*:}"

# The pressure boots' binaries take kernel pins (a held range of the
# kernel CPU access API, a vmap) through the KTAP test module's debugfs
# file: it is loaded around them, and its unload checked.
test_ko="$(dirname "$ko")/swgpu_cpu_access_test.ko"
pin_module=0
if [[ -n "${SWGPU_PRESSURE_BOOT:-}" && -e "$test_ko" ]]; then
	if insmod "$test_ko"; then
		pin_module=1
	else
		ktap "not ok" test-module-load
	fi
fi

for bin in "$testdir"/swgpu_*; do
	[[ -f "$bin" && -x "$bin" ]] || continue
	name="$(basename "$bin")"
	wanted "$name" || continue
	args=()
	[[ -n "$subtest" ]] && args=(--run-subtest "$subtest")
	echo "guest-tests: running $name ${args[*]}"
	start="$(cut -d' ' -f1 /proc/uptime)"
	rc=0
	# timeout(1) gives the test its own process group, so a hung test and
	# its children are killed together. stdbuf: line-buffered stdout, so
	# stderr lines cannot split IGT's "Subtest NAME: RESULT" lines.
	timeout -k 10 "$timeout_s" stdbuf -oL -eL "$bin" "${args[@]}" \
		>"$SWGPU_OUT/$name.log" 2>&1 || rc=$?
	echo "$rc" >"$SWGPU_OUT/$name.exit"
	end="$(cut -d' ' -f1 /proc/uptime)"
	echo "guest-tests: $name exited $rc after $(awk "BEGIN { print $end - $start }")s"
done
if ((pin_module)); then
	rmmod swgpu_cpu_access_test || ktap "not ok" test-module-unload
fi

if wanted cpu_access; then
	echo "guest-tests: running cpu_access"
	if insmod "$test_ko"; then
		timeout -k 10 "$timeout_s" "$ktapdir/cpu-access-runner" \
			>"$SWGPU_OUT/cpu_access.ktap" 2>&1 || true
		rmmod swgpu_cpu_access_test || ktap "not ok" test-module-unload
	else
		ktap "not ok" test-module-load
	fi
fi

# The Mesa client (tools/mesa/mesa-client.c): the host's Mesa (GBM, EGL,
# GLES2 on llvmpipe) on swgpu, under the name the module registered.
if wanted mesa; then
	echo "guest-tests: running mesa"
	if [[ -x "$ktapdir/mesa-client" ]]; then
		MESA_SHADER_CACHE_DISABLE=true timeout -k 10 "$timeout_s" \
			"$ktapdir/mesa-client" "${SWGPU_TEST_DRIVER_NAME:-swgpu}" \
			>"$SWGPU_OUT/mesa.ktap" 2>"$SWGPU_OUT/mesa.log" || true
	else
		printf 'KTAP version 1\n1..1\nnot ok 1 mesa-client # not built: %s\n' \
			"$ktapdir/mesa-client" >"$SWGPU_OUT/mesa.ktap"
	fi
	# Once more with another suite's Mesa (tools/mesa/mesa-root.sh):
	# the same program in a chroot of that root, in a mount namespace
	# of its own, with this guest's /dev, /proc, /sys (and debugfs) and
	# the client's directory at /mnt. LP_NATIVE_VECTOR_WIDTH=128: under
	# this QEMU (TCG, -cpu max), unstable's llvmpipe (Mesa 26.2, LLVM 22)
	# with its default 256-bit vectors samples every texel of any
	# texture as texel (0,0) - the same on the in-tree vgem and for a
	# plain glTexImage2D texture - and with 128-bit vectors it samples
	# right (measured; mesa.rst).
	if [[ -n "${SWGPU_MESA_ROOT:-}" && -x "$ktapdir/mesa-client" ]]; then
		echo "guest-tests: running mesa in $SWGPU_MESA_ROOT"
		# shellcheck disable=SC2016 # expanded by the inner shell
		timeout -k 10 "$timeout_s" unshare --mount --propagation private -- \
			bash -c '
			root="$1" dir="$2" name="$3"
			for d in dev proc sys; do mount --rbind "/$d" "$root/$d"; done
			mount -t tmpfs tmpfs "$root/tmp"
			mount --bind "$dir" "$root/mnt"
			exec chroot "$root" env -i PATH=/usr/bin:/bin HOME=/tmp \
				MESA_SHADER_CACHE_DISABLE=true \
				LP_NATIVE_VECTOR_WIDTH=128 /mnt/mesa-client "$name"
			' mesa-root "$SWGPU_MESA_ROOT" "$ktapdir" \
			"${SWGPU_TEST_DRIVER_NAME:-swgpu}" \
			>"$SWGPU_OUT/mesa-${SWGPU_MESA_ROOT_NAME:-root}.ktap" \
			2>"$SWGPU_OUT/mesa-${SWGPU_MESA_ROOT_NAME:-root}.log" || true
	fi
fi

# The compositor test (tools/weston/): weston headless on Mesa's GL
# renderer, weston-simple-dmabuf-egl's buffers from swgpu, a screenshot
# judged pixel by pixel; the host's weston, then SWGPU_MESA_ROOT's.
# run_weston NAME [ROOT]: tools/weston/guest-weston.sh, results NAME.ktap.
run_weston() {
	echo "guest-tests: running $1${2:+ in $2}"
	if ! "$here/../weston/guest-weston.sh" "$SWGPU_OUT/$1" ${2:+"$2"}; then
		printf 'KTAP version 1\n1..1\nnot ok 1 guest-weston # the harness script failed, see console.log\n' \
			>"$SWGPU_OUT/$1.ktap"
	fi
}
if wanted weston; then
	run_weston weston
	[[ -z "${SWGPU_MESA_ROOT:-}" ]] ||
		run_weston "weston-${SWGPU_MESA_ROOT_NAME:-root}" "$SWGPU_MESA_ROOT"
fi

if wanted module_lifetime; then
	echo "guest-tests: running module_lifetime"
	timeout -k 10 "$timeout_s" "$ktapdir/module-lifetime-runner" \
		>"$SWGPU_OUT/module_lifetime.ktap" 2>&1 || true
fi

# The lifetime runner unloads the module itself; otherwise rmmod does.
if [[ ! -d "/sys/module/$module" ]] || rmmod "$module"; then
	ktap ok module-unload
else
	ktap "not ok" module-unload
	lsmod | grep -E "^($module|drm|vgem) " || true
fi
write_ktap

if ((have_kmemleak)); then
	# kmemleak reports an object only once it is older than 5 s and was
	# unreferenced in a full scan: let the youngest age, scan twice.
	sleep 6
	echo scan >$kmemleak
	echo scan >$kmemleak
	cat $kmemleak >"$SWGPU_OUT/kmemleak.txt"
	leaks="$(grep -c '^unreferenced object' "$SWGPU_OUT/kmemleak.txt" || true)"
	if ((leaks == 0)); then
		line="ok 1 kmemleak"
	else
		line="not ok 1 kmemleak # $leaks unreferenced object(s), see kmemleak.txt"
		head -n 40 "$SWGPU_OUT/kmemleak.txt" | sed 's/^/guest-tests: kmemleak: /'
	fi
	printf 'KTAP version 1\n1..1\n%s\n' "$line" >"$SWGPU_OUT/tier.ktap"
fi
dmesg >"$SWGPU_OUT/dmesg.txt"

# --- the leak canary: proof that the leak checks can fail ----------------
# swgpu_cpu_access_test.ko leak_canary=1 leaks eight 64-byte objects,
# tagged "swgpu:leak-test!", on load. kmemleak must report some of them
# (a stale pointer can hide one: the test module says why) and nothing
# else, and the log scan (scan-log.sh) must flag kmemleak's
# kernel message about it and nothing else: otherwise the clean kmemleak
# and kernel-log results above would prove nothing. Only where kmemleak
# is, once per run (an empty selection, or TEST=leak_canary), after the
# suite's own checks so its leak is never the suite's; swgpu is loaded
# again for the test module and unloaded after.
if ((have_kmemleak)) && wanted leak_canary; then
	lc="$SWGPU_OUT/leak_canary"
	echo "guest-tests: running leak_canary"
	dmesg -C
	echo clear >$kmemleak
	test_ko="$(dirname "$ko")/swgpu_cpu_access_test.ko"
	if insmod "$ko" && insmod "$test_ko" leak_canary=1; then
		rmmod swgpu_cpu_access_test || true
		rmmod "$module" || true
		# As above: objects must be 5 s old to be reported.
		sleep 6
		echo scan >$kmemleak
		echo scan >$kmemleak
		cat $kmemleak >"$lc-kmemleak.txt"
		dmesg >"$lc-dmesg.txt"
		# (No process substitution: the guest has no /dev/fd.)
		counts="$(awk '
			/^unreferenced object/ { n++ }
			/swgpu:leak-test!/ && !(n in seen) { seen[n] = 1; k++ }
			END { print n + 0, k + 0 }' "$lc-kmemleak.txt")"
		total="${counts% *}" tagged="${counts#* }"
		rc=0
		scan="$("$here/scan-log.sh" "$lc-dmesg.txt" 2>/dev/null)" || rc=$?
		other="$(grep -E '^[^ ]+:[0-9]+: ' <<<"$scan" | grep -vc 'suspected memory leak' || true)"
		{
			echo "KTAP version 1"
			echo "1..3"
			# 8 canaries, of which stale pointers may hide some
			# (swgpu_cpu_access_test.c): one reported proves it.
			if ((tagged >= 1 && tagged <= 8)); then
				echo "ok 1 kmemleak-reports-the-canary # $tagged of the 8 reported"
			else
				echo "not ok 1 kmemleak-reports-the-canary # $tagged reported objects carry the tag, expected 1 to 8 (leak_canary-kmemleak.txt)"
			fi
			if ((total == tagged)); then
				echo "ok 2 kmemleak-reports-nothing-else"
			else
				echo "not ok 2 kmemleak-reports-nothing-else # $((total - tagged)) other unreferenced object(s) (leak_canary-kmemleak.txt)"
			fi
			if ((rc == 1 && other == 0)); then
				echo "ok 3 log-scan-reports-the-canary"
			elif ((rc == 0)); then
				echo "not ok 3 log-scan-reports-the-canary # scan-log.sh found nothing in leak_canary-dmesg.txt"
			else
				echo "not ok 3 log-scan-reports-the-canary # scan-log.sh exit $rc, $other line(s) other than kmemleak's (leak_canary-dmesg.txt)"
			fi
		} >"$lc.ktap"
		echo "clear" >$kmemleak
	else
		printf 'KTAP version 1\n1..1\nnot ok 1 leak-canary-load # insmod of %s or %s leak_canary=1 failed\n' \
			"$ko" "$test_ko" >"$lc.ktap"
		rmmod swgpu_cpu_access_test 2>/dev/null || true
		rmmod "$module" 2>/dev/null || true
	fi
	cat "$lc.ktap"
fi

# --- the udmabuf-sg-leak reproducer (docs/upstream/README.rst) -----------
# Two threads start CPU access on each of ROUNDS new udmabufs at once; a
# kernel with the bug leaks an sg_table whenever both build one. Only
# kmemleak can see that: counted are its reports whose allocation trace
# goes through begin_cpu_udmabuf.
if wanted kbug_udmabuf; then
	kb="$SWGPU_OUT/kbug_udmabuf.kbug"
	rounds=64
	echo "guest-tests: running kbug_udmabuf"
	# The suite's kernel log is in dmesg.txt: what follows is the
	# reproducer's own.
	dmesg -C
	[[ $have_kmemleak == 0 ]] || echo clear >$kmemleak
	rc=0
	msg="$(timeout -k 10 "$timeout_s" "$ktapdir/udmabuf-sync-race" "$rounds" 2>&1)" || rc=$?
	echo "guest-tests: udmabuf-sync-race: $msg (exit $rc)"
	if ((rc == 3)); then
		echo "n/a udmabuf-sg-leak # this kernel has no udmabuf ($msg)" >"$kb"
	elif ((rc != 0)); then
		echo "error udmabuf-sg-leak # udmabuf-sync-race exited $rc: $msg" >"$kb"
	elif ((!have_kmemleak)); then
		echo "unobservable udmabuf-sg-leak # $rounds racing rounds ran; a leaked sg_table is invisible without kmemleak, which this kernel lacks (the debug tier has it)" >"$kb"
	else
		# As above: objects must be 5 s old to be reported.
		sleep 6
		echo scan >$kmemleak
		echo scan >$kmemleak
		cat $kmemleak >"$SWGPU_OUT/kbug_udmabuf-kmemleak.txt"
		n="$(awk '/^unreferenced object/ { if (hit) n++; hit = 0 }
			/begin_cpu_udmabuf/ { hit = 1 }
			END { if (hit) n++; print n + 0 }' "$SWGPU_OUT/kbug_udmabuf-kmemleak.txt")"
		if ((n > 0)); then
			echo "reproduced udmabuf-sg-leak # kmemleak: $n unreferenced object(s) allocated under begin_cpu_udmabuf after $rounds racing rounds (kbug_udmabuf-kmemleak.txt)" >"$kb"
		else
			echo "fixed udmabuf-sg-leak # kmemleak: nothing allocated under begin_cpu_udmabuf leaked in $rounds racing rounds" >"$kb"
		fi
		echo clear >$kmemleak
	fi
	dmesg >"$SWGPU_OUT/kbug_udmabuf-dmesg.txt"
	# kmemleak's own note aside, its part of the log must be clean too: a
	# fix that trades the leak for a lockdep report is not a fix.
	if grep -qE 'WARNING:|BUG:|Oops|possible (circular|recursive) locking|KASAN' \
		"$SWGPU_OUT/kbug_udmabuf-dmesg.txt"; then
		echo "error udmabuf-sg-leak # the kernel log of the reproducer reports a problem (kbug_udmabuf-dmesg.txt); it said: $(cut -d'#' -f2- "$kb")" >"$kb"
	fi
	cat "$kb"
fi
