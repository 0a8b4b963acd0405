#!/bin/sh
# SPDX-License-Identifier: MIT
# make demo: walk the built-in nested scenario (a 4K-granule 4-level stage 1
# over a stage 2 with two concatenated level-1 start tables) and print the
# 2-D walk, then a walk that faults, to show the fault report.
set -eu
build=${1:-build}
uiommu="$build/tools/uiommu/uiommu"
scenario=scenarios/nested-4k.json

echo "\$ uiommu walk $scenario --iova 0x8040201000"
"$uiommu" walk "$scenario" --iova 0x8040201000
echo
echo "\$ uiommu walk $scenario --iova 0x8040600000 --access w   # a read-only page"
status=0
"$uiommu" walk "$scenario" --iova 0x8040600000 --access w || status=$?
# A walk that faults exits 1; anything else means the demo is broken.
if [ "$status" -ne 1 ]; then
	echo "demo: the faulting walk exited $status, expected 1" >&2
	exit 1
fi
