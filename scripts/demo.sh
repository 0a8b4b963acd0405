#!/bin/sh
# SPDX-License-Identifier: MIT
# make demo: the default run scenario (a guest's stage 1 over the host's
# stage 2 on an SMMUv3, through the iommufd API: DMA copies checked byte for
# byte, a stage-1 unmap whose invalidation makes the next DMA fault, the
# fault as a vEVENT, an MSI through the guest's doorbell mapping), the same
# story through the legacy VFIO path (SET_PASID_TABLE, CACHE_INVALIDATE, the
# fault from the DMA FAULT ring, the MSI through SET_MSI_BINDING), then one
# nested walk shown read by read.
set -eu
build=${1:-build}
uiommu="$build/tools/uiommu/uiommu"

echo "\$ uiommu run scenarios/nested-smmuv3.json"
"$uiommu" run scenarios/nested-smmuv3.json
echo
echo "\$ uiommu run scenarios/nested-vfio.json   # the same story through VFIO's nested extension"
"$uiommu" run scenarios/nested-vfio.json
echo
echo "\$ uiommu walk scenarios/nested-4k.json --iova 0x8040201000   # one nested walk, read by read"
"$uiommu" walk scenarios/nested-4k.json --iova 0x8040201000
