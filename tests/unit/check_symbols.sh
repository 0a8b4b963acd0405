#!/bin/sh
# SPDX-License-Identifier: MIT
# Linkage test: the dynamic symbols libuiommu.so defines must be exactly the
# checked-in list (tests/unit/libuiommu.symbols), and all start with
# uiommu_. A new public function is added to the list in the same commit.
# Prints TAP. Usage: check_symbols.sh LIBUIOMMU_SO SYMBOLS_FILE
set -u
lib=$1
list=$2
tmp=${TMPDIR:-/tmp}/uiommu-symbols.$$
trap 'rm -f "$tmp".*' EXIT

echo "1..3"
# "ADDR TYPE NAME[@@VERSION]"; the version node itself is an absolute (A) symbol.
if ! nm -D --defined-only "$lib" >"$tmp.nm" 2>&1; then
	echo "not ok 1 - nm -D failed on $lib"
	sed 's/^/# /' "$tmp.nm"
	echo "not ok 2 - # no symbols"
	echo "not ok 3 - # no symbols"
	exit 0
fi
awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' "$tmp.nm" | sort -u >"$tmp.got"
grep -v '^#' "$list" | sed '/^[[:space:]]*$/d' | sort -u >"$tmp.want"

if cmp -s "$tmp.got" "$tmp.want"; then
	echo "ok 1 - exported symbols match $(basename "$list") ($(wc -l <"$tmp.got") symbols)"
else
	echo "not ok 1 - exported symbols differ from $(basename "$list")"
	diff "$tmp.want" "$tmp.got" | sed 's/^/# /'
fi
if grep -v '^uiommu_' "$tmp.got" >"$tmp.bad"; then
	echo "not ok 2 - symbols outside the uiommu_ namespace"
	sed 's/^/# /' "$tmp.bad"
else
	echo "ok 2 - every exported symbol starts with uiommu_"
fi
if awk '$2 == "A"' "$tmp.nm" | grep -q 'UIOMMU_0\.1'; then
	echo "ok 3 - symbols carry the UIOMMU_0.1 version node"
else
	echo "not ok 3 - no UIOMMU_0.1 version node"
fi
