#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every test registered with meson (unit, functional, fuzz corpora,
# conformance), then add up the TAP test points of all of them and close with
# the line "N passed, N failed". A program that dies without printing its
# plan counts as one failure. Exit status: 0 only when nothing failed.
set -u
build=${1:-build}
shift 2>/dev/null || true

meson test -C "$build" --no-rebuild --print-errorlogs --num-processes "$(nproc)" "$@" \
	>"$build/test-output.txt" 2>&1
status=$?
# Meson's own per-program lines, for the reader.
grep -E '^ *[0-9]+/[0-9]+ ' "$build/test-output.txt"

python3 - "$build/meson-logs/testlog.json" "$status" <<'PY'
import json, re, sys
path, mstatus = sys.argv[1], int(sys.argv[2])
passed = failed = skipped = 0
bad = []
try:
    lines = open(path).read().splitlines()
except OSError:
    lines = []
for line in lines:
    t = json.loads(line)
    out = t.get("stdout") or ""
    p = f = s = 0
    plan = None
    for l in out.splitlines():
        m = re.match(r"^(not )?ok\b\s*\d*\s*(?:- )?(.*)$", l)
        if m:
            if "# SKIP" in l.upper():
                s += 1
            elif m.group(1):
                f += 1
                bad.append(f"{t['name']}: {l.strip()}")
            else:
                p += 1
        mp = re.match(r"^1\.\.(\d+)", l)
        if mp:
            plan = int(mp.group(1))
    result = t.get("result", "")
    if plan is None or (p + f + s) < plan or result not in ("OK", "SKIP", "EXPECTEDFAIL"):
        if f == 0:
            f = 1
            bad.append(f"{t['name']}: {result} (exit {t.get('returncode')}) after {p} passed")
    passed += p; failed += f; skipped += s
for b in bad:
    print("FAILED:", b)
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or (mstatus and not passed) else 0)
PY
