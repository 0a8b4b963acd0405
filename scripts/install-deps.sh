#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages uiommu needs to build and test. Does nothing when
# every package is already present; needs root (or sudo) only when something
# is missing.
#
#   install-deps.sh          what the build, make demo and most tests need
#   install-deps.sh --tests  also what only tests need (make check and the
#                            sanitizer runs): linux-source-6.12, whose
#                            tarball holds the kernel's iommufd selftest and
#                            uAPI headers (tests/conformance, tests/abi;
#                            about 150 MB), and g++ (the uAPI headers must
#                            compile as C++, tests/abi/compilers.sh)
set -eu

# qemu-system-x86 (QEMU 7.2, about 17 MB to download without recommends) is
# the unmodified VMM tests/func/test_qemu_vfio.py runs under `uiommu exec`.
pkgs="meson ninja-build pkg-config gcc make libcmocka-dev libjansson-dev
systemtap-sdt-dev clang libclang-rt-14-dev libfuzzer-14-dev libglib2.0-dev
liburcu-dev qemu-system-x86"
case "${1:-}" in
--tests) pkgs="$pkgs linux-source-6.12 g++" ;;
"") ;;
*) echo "usage: install-deps.sh [--tests]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
sudo=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root to install:$missing" >&2; exit 1; }
	sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing >/dev/null
