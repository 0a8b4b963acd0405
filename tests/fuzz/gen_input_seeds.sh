#!/bin/sh
# SPDX-License-Identifier: MIT
# Seeds for fuzz_inputs: each file of scenarios/ and tests/data/, prefixed
# with the byte of the reader it is for (0 topology, 1 run scenario, 2 walk
# scenario, 3 DMA trace). Run from the top of the tree.
set -e
out=tests/fuzz/corpus/fuzz_inputs
mkdir -p "$out"
seed() { # READER FILE
	name=$(basename "$2")
	{ printf "\\$(printf %03o "$1")"; cat "$2"; } > "$out/$1-$name"
}
for f in scenarios/topology-*.json; do seed 0 "$f"; done
for f in scenarios/*.json; do
	case "$f" in
	*/topology-*) ;;
	*) if grep -q '"steps"' "$f"; then seed 1 "$f"; else seed 2 "$f"; fi ;;
	esac
done
for f in tests/data/*.json; do seed 2 "$f"; done
for f in tests/data/*.csv tests/data/*.trace; do [ -f "$f" ] && seed 3 "$f"; done
printf '\003%s\n' '# a trace' '0x1000,4096,r' '0x2000,8K,w,1' ' 0x3000 , 0x10 , r , 3' \
	> "$out/3-inline.csv"
