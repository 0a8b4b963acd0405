#!/bin/sh
# SPDX-License-Identifier: MIT
# Run a libFuzzer target for a fixed number of runs with a fixed seed and
# report one TAP test point. Usage: run_fuzz_smoke.sh FUZZER RUNS
set -u
fuzzer=$1
runs=${2:-20000}
name=$(basename "$fuzzer")
echo "1..1"
out=$("$fuzzer" -runs="$runs" -seed=1 -max_len=4096 2>&1)
rc=$?
if [ $rc -eq 0 ]; then
	echo "ok 1 - $name: $runs runs (seed 1) without a finding"
else
	echo "not ok 1 - $name: exit $rc"
	printf '%s\n' "$out" | tail -n 40 | sed 's/^/# /'
fi
