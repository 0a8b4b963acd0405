#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/abi/compilers.sh SRCROOT - the uAPI headers under every compiler at hand (TAP).
#
# - gcc and clang, -std=c11 and -std=gnu11, -Wall -Wextra -Werror -pedantic:
#   build tests/abi/test_uapi_abi (both translation units) and run it; its
#   own test points must all pass.
# - g++ and clang++, -std=c++11: <linux/iommufd.h> with -pedantic, and
#   <linux/iommufd_test.h> without it (the selftest ABI nests unnamed structs
#   in an anonymous union, which ISO C++ does not have; the kernel does the same).
# - clang for 32-bit targets (i386, arm), syntax only: the headers' layout
#   assertions hold where a plain __u64 is only 4-byte aligned. The host's
#   <asm/...> headers stand in for the target's (they only supply the
#   fixed-width types and the _IOC encoding, which are the same there).
# - the headers include nothing but the kernel's own uapi headers (linux/,
#   asm/, asm-generic/), and have no kernel-only annotations.
# A compiler that is not installed turns its points into skips.
set -u
src=${1:?usage: compilers.sh SRCROOT}
uapi=$src/include/uapi
abi=$src/tests/abi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

n=0
failed=0
out=$tmp/out.txt
: >"$out"
pass() { n=$((n + 1)); echo "ok $n - $1" >>"$out"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2" >>"$out"; }
fail() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1" >>"$out"
	sed -n '1,20s/^/# /p' "$2" >>"$out"
}
have() { command -v "$1" >/dev/null 2>&1; }

# C: build the TAP program and run it.
for cc in gcc clang; do
	for std in c11 gnu11; do
		what="$cc -std=$std -pedantic -Werror: test_uapi_abi builds and passes"
		if ! have $cc; then
			skip "$what" "$cc not installed"
			continue
		fi
		exe=$tmp/abi-$cc-$std
		if ! $cc -std=$std -Wall -Wextra -Werror -pedantic -I"$uapi" -o "$exe" \
			"$abi/test_uapi_abi.c" "$abi/test_uapi_abi_tu2.c" >"$tmp/log" 2>&1; then
			fail "$what" "$tmp/log"
		elif ! "$exe" >"$tmp/log" 2>&1 || grep -q '^not ok' "$tmp/log"; then
			grep -v '^ok' "$tmp/log" >"$tmp/log2"
			fail "$what" "$tmp/log2"
		else
			pass "$what ($(grep -c '^ok' "$tmp/log") points)"
		fi
	done
done

# C++: the headers are usable from C++11.
for cxx in g++ clang++; do
	what="$cxx -std=c++11 -Werror: the headers compile"
	if ! have $cxx; then
		skip "$what" "$cxx not installed"
		continue
	fi
	printf '#include <linux/iommufd.h>\n' >"$tmp/a.cc"
	printf '#include <linux/iommufd_test.h>\n#include <linux/vfio.h>\n' >"$tmp/b.cc"
	flags="-std=c++11 -Wall -Wextra -Werror -fsyntax-only -I$uapi"
	if $cxx $flags -pedantic "$tmp/a.cc" >"$tmp/log" 2>&1 &&
		$cxx $flags "$tmp/b.cc" >>"$tmp/log" 2>&1; then
		pass "$what"
	else
		fail "$what" "$tmp/log"
	fi
done

# 32-bit ABIs: the static layout assertions must hold there too.
for target in i386-linux-gnu arm-linux-gnueabihf; do
	what="clang --target=$target: layout assertions hold"
	if ! have clang; then
		skip "$what" "clang not installed"
		continue
	fi
	printf '#include <linux/iommufd.h>\n#include <linux/iommufd_test.h>\n#include <linux/vfio.h>\n' >"$tmp/t.c"
	if clang --target=$target -std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only \
		-I"$uapi" -idirafter "/usr/include/$multiarch" "$tmp/t.c" >"$tmp/log" 2>&1; then
		pass "$what"
	else
		fail "$what" "$tmp/log"
	fi
done

# Self-contained: only <linux/...>, <asm/...>, <asm-generic/...> get included.
for h in iommufd.h iommufd_test.h vfio.h iommu.h; do
	what="<linux/$h> includes only kernel uapi headers"
	printf '#include <linux/%s>\n' "$h" >"$tmp/i.c"
	if ! gcc -std=gnu11 -H -fsyntax-only -I"$uapi" "$tmp/i.c" >"$tmp/log" 2>&1; then
		fail "$what" "$tmp/log"
		continue
	fi
	grep '^\.' "$tmp/log" | sed 's/^\.* //' |
		grep -Ev '/(linux|asm|asm-generic)/[^/]+\.h$' >"$tmp/other"
	if [ -s "$tmp/other" ]; then
		fail "$what" "$tmp/other"
	else
		pass "$what ($(grep -c '^\.' "$tmp/log") files)"
	fi
done
for h in iommufd.h iommufd_test.h vfio.h iommu.h; do
	what="<linux/$h> has no kernel-only annotation or libc type"
	if grep -nE '__user|__kernel\b|\bu(8|16|32|64)\b|uint[0-9]+_t|#include <std' \
		"$uapi/linux/$h" >"$tmp/log"; then
		fail "$what" "$tmp/log"
	else
		pass "$what"
	fi
done

echo "1..$n"
cat "$out"
[ "$failed" -eq 0 ]
