#!/usr/bin/env python3
"""Judge one kernel's upstream IGT runs; print its three-column table.

    tools/upstream-igt-judge.py KERNEL DIR

DIR holds one directory per column (tools/vm/guest-igt.sh): vgem (the
in-tree vgem), vgem_compat (swgpu as "vgem"), native (swgpu as "swgpu"),
each with igt_runner's runner/results.json, runner-kms/results.json where
the kms tests ran apart, and left-out.txt (the tests the guest left out,
a line "TEST<TAB>why" each; such a test is one SKIP with that reason).
Writes DIR/table.txt (every subtest, the three results side by side,
every SKIP's reason) and prints one judgement per line for tools/check.sh:

    STATUS<TAB>TAG<TAB>NAME<TAB>DETAIL

STATUS is PASS, FAIL or SKIP; TAG is KERNEL/igt-vgem_compat or
KERNEL/igt-native. Only the swgpu columns are judged; the in-tree vgem
column is the reference. A swgpu subtest fails when IGT says anything but
pass or skip, when it skips where the in-tree vgem passed, when it has
no result where the in-tree vgem has one, and when a subtest of
MUST_PASS skips where it ran. A missing reference (the vgem run broke)
is a failure too: nothing can be compared then.
"""
import json
import os
import re
import sys

# Kernel log lines at warning level that are not the drivers' doing: IGT's
# runner turns a result into dmesg-warn/dmesg-fail for any such line
# during a subtest. TCG's slow timers and unsteady clocks, the deprecation
# notice 7.x prints when IGT looks into debugfs' tracing directory, and
# (in the native column) the kernel refusing to load the blacklisted
# in-tree vgem when IGT tries. A result whose every warning is one of
# these is judged as it was before the runner changed it; the table notes
# it. Real reports (WARNING:, BUG:, lockdep...) are still failed by the
# whole-boot kernel-log check.
TOLERATED = [re.compile(p) for p in (
    r"^hrtimer: interrupt took [0-9]+ ns$",
    r"^clocksource: ",
    r"^TSC found unstable after boot",
    r"^NOTICE: Automounting of tracing to debugfs is deprecated",
)]
TOLERATED_SWGPU = [re.compile(r"^Module vgem is blacklisted$")]

COLUMNS = ("vgem", "vgem_compat", "native")
TITLES = {"vgem": "in-tree vgem", "vgem_compat": "swgpu vgem_compat",
          "native": "swgpu native"}


def tolerated(col, warnings):
    pats = TOLERATED + (TOLERATED_SWGPU if col != "vgem" else [])
    lines = [re.sub(r"^<[0-9]> \[ *[0-9.]+\] ", "", l) for l in warnings.splitlines() if l.strip()]
    return lines and all(any(p.search(l) for p in pats) for l in lines)


NOTES = []


def load(path, col):
    """{name: (result, reason)} from a results.json, or None."""
    try:
        # igt_runner (2.2, --multiple-mode) can write stray bytes that are
        # not UTF-8 into a subtest's "err" when it printed nothing there.
        with open(path, "rb") as f:
            data = json.loads(f.read().decode("utf-8", errors="replace"))
    except (OSError, ValueError):
        return None
    out = {}
    for key, test in data.get("tests", {}).items():
        parts = key.split("@")
        if parts[0] != "igt" or len(parts) < 2:
            continue
        name = parts[1]
        if len(parts) > 2:
            name += "/" + parts[2]
        if len(parts) > 3:
            name += "@" + "@".join(parts[3:])
        result = test.get("result", "notrun")
        reason = ""
        if result in ("dmesg-warn", "dmesg-fail") and tolerated(col, test.get("dmesg-warnings", "")):
            NOTES.append("%s [%s] %s, judged %s: the kernel logged %s" % (
                name, TITLES[col], result, "pass" if result == "dmesg-warn" else "fail",
                test["dmesg-warnings"].strip().replace("\n", " / ")))
            result = "pass" if result == "dmesg-warn" else "fail"
        if result == "skip":
            reason = skip_reason(test.get("out", "") + "\n" + test.get("err", ""))
        elif result != "pass":
            reason = first_error(test.get("err", "") + "\n" + test.get("out", ""))
        out[name] = (result, reason)
    return out


def load_left_out(path):
    """{test: why} from a column's left-out.txt (none: {})."""
    try:
        with open(path) as f:
            return dict(l.rstrip("\n").split("\t", 1) for l in f if "\t" in l)
    except OSError:
        return {}


def skip_reason(text):
    """IGT's own words for a skip: the requirement that was not met."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for i, line in enumerate(lines):
        if line.startswith("Test requirement:"):
            reason = line[len("Test requirement:"):].strip()
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if nxt and not nxt.startswith(("Subtest", "Last errno", "Dynamic subtest")):
                reason += ": " + nxt
            return reason
    for line in lines:
        if line.startswith(("Starting ", "Opened device", "IGT-Version", "Using IGT",
                            "Subtest ", "Dynamic subtest ", "Running on", "Starting subtest")):
            continue
        return line
    return "no reason printed"


def first_error(text):
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(("Stack trace", "#")) or not line:
            continue
        if any(w in line for w in ("FAIL", "fail", "assert", "Assert", "error")):
            return line[:200]
    return ""


def main():
    kernel, top = sys.argv[1], sys.argv[2]
    left_out = {c: load_left_out(os.path.join(top, c, "left-out.txt")) for c in COLUMNS}
    runs = {}
    for c in COLUMNS:
        ran_kms = os.path.exists(os.path.join(top, c, "runner-kms.exit"))
        runs[c] = load(os.path.join(top, c, "runner", "results.json"), c)
        # Every other test left out or run apart: the runner did not start.
        if runs[c] is None and (left_out[c] or ran_kms) and \
                not os.path.exists(os.path.join(top, c, "runner.exit")):
            runs[c] = {}
        # A broken main runner stays None (a failure) whatever kms gave.
        if runs[c] is None or not ran_kms:
            continue
        kms = load(os.path.join(top, c, "runner-kms", "results.json"), c)
        if kms is None:
            runs[c]["runner-kms"] = ("fail", "no results.json from the kms tests' igt_runner")
        else:
            runs[c].update(kms)
    names = sorted(set().union(*[set(r) for r in runs.values() if r]))
    out = []
    # A column that had no test to run was not booted: no directory.
    ran = {c: os.path.isdir(os.path.join(top, c)) for c in COLUMNS}
    ref = runs["vgem"]
    if ref is None and ran["vgem"]:
        out.append(("FAIL", kernel + "/igt-vgem", "results",
                    "no results.json from the in-tree vgem run: nothing to compare with"))
    for col in ("vgem_compat", "native"):
        tag = kernel + "/igt-" + col
        run = runs[col]
        if run is None:
            if ran[col]:
                out.append(("FAIL", tag, "results", "no results.json from igt_runner"))
            continue
        for test, why in sorted(left_out[col].items()):
            out.append(("SKIP", tag, test, why))
        for name in names:
            ref_res = ref.get(name, (None, ""))[0] if ref else None
            if name not in run:
                # Not run in this column (tools/check.sh).
                if not_run(col, name):
                    continue
                if ref_res is not None:
                    out.append(("FAIL", tag, name, "no result on swgpu; in-tree vgem: " + ref_res))
                continue
            res, reason = run[name]
            if res == "pass":
                out.append(("PASS", tag, name, ""))
            elif res == "skip" and ref_res == "pass":
                out.append(("FAIL", tag, name, "passes on in-tree vgem, skips on swgpu: " + reason))
            elif res == "skip" and name in MUST_PASS.get(col, ()):
                out.append(("FAIL", tag, name, "must pass where it runs (the guest has vkms): " + reason))
            elif res == "skip":
                out.append(("SKIP", tag, name, reason))
            else:
                detail = res + (": " + reason if reason else "")
                if ref_res and ref_res != "pass":
                    detail += " (in-tree vgem: " + ref_res + ")"
                out.append(("FAIL", tag, name, detail))

    width = max([len(n) for n in names] + [20])
    with open(os.path.join(top, "table.txt"), "w") as f:
        f.write("upstream IGT on %s (skip reasons below the table)\n\n" % kernel)
        f.write("%-*s  %-12s  %-17s  %-12s\n" % (width, "subtest", *[TITLES[c] for c in COLUMNS]))
        reasons = []
        for name in names:
            cells = []
            for c in COLUMNS:
                run = runs[c]
                if run is None:
                    cells.append("(no run)" if ran[c] else "-")
                elif name not in run:
                    cells.append("-")
                else:
                    res, reason = run[name]
                    cells.append(res)
                    if res != "pass" and reason:
                        reasons.append("%s [%s] %s: %s" % (name, TITLES[c], res, reason))
            f.write("%-*s  %-12s  %-17s  %-12s\n" % (width, name, *cells))
        f.write("\n-: not run in that column (native runs no DRIVER_VGEM test, nor kms_prime:"
                "\n   its hybrid subtests need two DRIVER_ANY devices, and IGT counts vkms as one only"
                "\n   when it is IGT_FORCE_DRIVER; syncobj_* run on native only: the in-tree vgem"
                "\n   has no syncobjs, swgpu as vgem is the same code)\n")
        for c in COLUMNS:
            for test, why in sorted(left_out[c].items()):
                reasons.append("%s [%s] not run: %s" % (test, TITLES[c], why))
        if reasons:
            f.write("\n" + "\n".join(reasons) + "\n")
        if NOTES:
            f.write("\nKernel log lines tolerated (not the drivers' doing):\n" + "\n".join(NOTES) + "\n")
        totals = []
        for c in COLUMNS:
            run = runs[c] or {}
            counts = {}
            for res, _ in run.values():
                counts[res] = counts.get(res, 0) + 1
            totals.append("%s: %s" % (TITLES[c], ", ".join(
                "%d %s" % (n, r) for r, n in sorted(counts.items())) or "no results"))
        f.write("\n" + "\n".join(totals) + "\n")
    for status, tag, name, detail in out:
        print("\t".join((status, tag, name, detail.replace("\t", " ").replace("\n", " "))))


# The tests that open DRIVER_VGEM: they apply to swgpu only as "vgem".
# kms_prime too: its hybrid subtests need two DRIVER_ANY devices, and IGT
# counts vkms as one only when it is IGT_FORCE_DRIVER, which then admits
# no other.
VGEM_ONLY = ("vgem_basic", "vgem_slow", "dmabuf_sync_file", "kms_prime")

# Subtests that must pass where they run: kms_prime runs only where the
# guest has vkms, and then nothing but a bug makes it skip, even if the
# in-tree vgem skipped it too.
MUST_PASS = {"vgem_compat": ("kms_prime/basic-crc-vgem",)}


def not_run(col, name):
    """Whether tools/check.sh leaves test NAME out of column COL."""
    binary = name.split("/")[0]
    if col == "native":
        return binary in VGEM_ONLY
    return binary.startswith("syncobj_")


if __name__ == "__main__":
    main()
