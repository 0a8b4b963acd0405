#!/bin/sh
# SPDX-License-Identifier: MIT
# make bench: run every benchmark in bench/, JSON lines to bench/out/.
set -eu
build=${1:-build}
mkdir -p bench/out
for b in "$build"/bench/bench_*; do
	[ -f "$b" ] && [ -x "$b" ] || continue
	echo "== $(basename "$b")"
	"$b" | tee "bench/out/$(basename "$b").json"
done
