#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compare uiommu's uAPI headers with the real ones of Linux 6.12 (TAP).

When Debian's linux-source-6.12 package is installed, its tarball holds the
kernel's include/uapi/linux/iommufd.h and drivers/iommu/iommufd/iommufd_test.h
(and include/uapi/linux/vfio.h, of which we compare what we transcribe).
This script extracts them (and the iommufd selftest) into a work directory in
the build tree, reads every struct (with every field, also inside unions and
nested structs), every enum constant and every object-like macro that the 6.12
headers define, and writes two small C programs that print, for each of them,
sizeof/_Alignof of the struct, offsetof/sizeof/signedness of each field, and
the value of each constant. One program is compiled against the 6.12 headers,
the other against ours (include/uapi); the outputs must agree. Our headers are
newer, so only what 6.12 has is compared; the few deliberate differences are
listed in KNOWN_GROWTH and explained in the TAP diagnostics.

Last, the unmodified 6.12 selftest (iommufd.c, iommufd_fail_nth.c) is built
against our headers, as the conformance suite will build it.

Without the tarball it prints "1..0 # SKIP linux-source-6.12 not installed".

usage: compare_linux_612.py SRCROOT WORKDIR [TARBALL]
(TARBALL defaults to $UIOMMU_LINUX_SOURCE_612 or
/usr/src/linux-source-6.12.tar.xz; CC picks the compiler, default cc.)
"""
import os
import re
import shlex
import shutil
import subprocess
import sys

DEFAULT_TARBALL = "/usr/src/linux-source-6.12.tar.xz"
TOP = "linux-source-6.12"
WANTED = [
    "include/uapi/linux/iommufd.h",
    "include/uapi/linux/vfio.h",
    "drivers/iommu/iommufd/iommufd_test.h",
    "tools/testing/selftests/iommu",
    "tools/testing/selftests/kselftest_harness.h",
    "tools/testing/selftests/kselftest.h",
]

# Structs that grew after 6.12 on purpose: the 6.12 fields must keep their
# offsets and sizes, only the total size may be larger. name -> why
KNOWN_GROWTH = {
    "struct iommu_hwpt_selftest": "v6.19 appended pagetable_type (4 -> 8 bytes); "
    "the 6.12 selftest only uses sizeof and the end of iotlb",
    "struct vfio_irq_info": "the nested extension (v13) appended cap_offset (16 -> 20 bytes); "
    "it is written back only when argsz covers it",
    "struct vfio_device_attach_iommufd_pt": "a kernel after 6.12 appended pasid "
    "(12 -> 16 bytes) for VFIO_DEVICE_ATTACH_PASID; minsz stays 12",
    "struct vfio_device_detach_iommufd_pt": "a kernel after 6.12 appended pasid "
    "(8 -> 12 bytes) for VFIO_DEVICE_DETACH_PASID; minsz stays 8",
}


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0
        self.lines = []

    def ok(self, cond, desc, diag=()):
        self.n += 1
        self.lines.append(f"{'ok' if cond else 'not ok'} {self.n} - {desc}")
        self.lines.extend(f"# {d}" for d in diag)
        if not cond:
            self.failed += 1

    def note(self, text):
        self.lines.append(f"# {text}")

    def emit(self):
        print(f"1..{self.n}")
        for line in self.lines:
            print(line)
        sys.stdout.flush()
        sys.exit(1 if self.failed else 0)


def extract(tarball, work):
    """Unpack the wanted files into work/src once per tarball version."""
    st = os.stat(tarball)
    stamp_text = f"{os.path.abspath(tarball)} {st.st_size} {int(st.st_mtime)}\n"
    stamp = os.path.join(work, "extracted.stamp")
    src = os.path.join(work, "src")
    try:
        if open(stamp).read() == stamp_text and all(
            os.path.exists(os.path.join(src, w)) for w in WANTED
        ):
            return src
    except OSError:
        pass
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    cmd = ["tar", "-xJf", tarball, "-C", src, "--strip-components=1"]
    cmd += [f"{TOP}/{w}" for w in WANTED]
    subprocess.run(cmd, check=True)
    with open(stamp, "w") as f:
        f.write(stamp_text)
    return src


# ---- a parser for the plain C that uapi headers are written in -------------


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def split_macros(text):
    """Return (object-like macros in order, the text without # lines)."""
    text = text.replace("\\\n", " ")
    macros, rest = [], []
    for line in text.splitlines():
        m = re.match(r"\s*#\s*define\s+(\w+)(\(?)\s*(.*)$", line)
        if m:
            # Object-like macros with a value; string literals have no value to compare.
            if not m.group(2) and m.group(3).strip() and not m.group(3).strip().startswith('"'):
                macros.append(m.group(1))
            continue
        if re.match(r"\s*#", line):
            continue
        rest.append(line)
    return macros, "\n".join(rest)


TOKEN = re.compile(r"\w+|[{}\[\];,=()]|[^\s\w]")


class Parser:
    def __init__(self, text):
        self.toks = TOKEN.findall(text)
        self.i = 0

    def peek(self, k=0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def next(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, t):
        got = self.next()
        if got != t:
            raise SyntaxError(f"expected {t!r}, found {got!r} near token {self.i}")

    def skip_balanced(self, open_, close):
        depth = 0
        while True:
            t = self.next()
            if t == open_:
                depth += 1
            elif t == close:
                depth -= 1
                if depth == 0:
                    return

    def top(self):
        """Yield ('struct', name, fields) and ('enum', None, names) items."""
        while self.peek() is not None:
            t = self.peek()
            if t in ("struct", "union") and self.peek(2) == "{":
                self.next()
                name = self.next()
                fields = self.body()
                self.expect(";")
                yield ("struct", f"{t} {name}", fields)
            elif t == "enum" and (self.peek(1) == "{" or self.peek(2) == "{"):
                self.next()
                if self.peek() != "{":
                    self.next()
                yield ("enum", None, self.enum_body())
                self.expect(";")
            else:
                # anything else at file scope (typedefs, prototypes): skip it
                while self.peek() not in (";", None):
                    if self.peek() == "{":
                        self.skip_balanced("{", "}")
                    else:
                        self.next()
                if self.peek() == ";":
                    self.next()

    def enum_body(self):
        self.expect("{")
        names, expect_name = [], True
        depth = 0
        while True:
            t = self.next()
            if t == "(":
                depth += 1
            elif t == ")":
                depth -= 1
            elif t == "}" and depth == 0:
                return names
            elif t == "," and depth == 0:
                expect_name = True
            elif expect_name and re.match(r"[A-Za-z_]\w*$", t):
                names.append(t)
                expect_name = False

    def body(self):
        """Parse '{ members }'; return [(path, is_scalar)], nested as "a.b"."""
        self.expect("{")
        fields = []
        while self.peek() != "}":
            if self.peek() in ("struct", "union") and self.peek(1) == "{":
                self.next()
                inner = self.body()
                name = self.next()
                if name == ";":
                    # anonymous: its members belong to the enclosing struct
                    fields += inner
                else:
                    fields.append((name, False))
                    fields += [(f"{name}.{p}", s) for p, s in inner]
                    self.expect(";")
                continue
            decl = []
            while self.peek() != ";":
                decl.append(self.next())
            self.next()
            is_array = "[" in decl
            if is_array:
                decl = decl[: decl.index("[")]
            fields.append((decl[-1], not is_array))
        self.next()
        return fields


def parse_header(path):
    macros, code = split_macros(strip_comments(open(path).read()))
    structs, consts = [], list(macros)
    for kind, name, items in Parser(code).top():
        if kind == "struct":
            structs.append((name, items))
        else:
            consts += items
    guards = {"_UAPI_IOMMUFD_H", "_UAPI_IOMMUFD_TEST_H", "_IOMMUFD_H", "_UAPIVFIO_H"}
    return structs, [c for c in consts if c not in guards]


# ---- the two probe programs ---------------------------------------------------


def probe_lines(structs, consts):
    """The probe's printf lines, one per key ("size struct x", "const NAME", ...)."""
    lines = []
    for name, fields in structs:
        lines.append(f'printf("size {name} %zu\\n", sizeof({name}));')
        lines.append(f'printf("align {name} %zu\\n", _Alignof({name}));')
        for path, scalar in fields:
            member = f"((({name} *)0)->{path})"
            lines.append(f'printf("offset {name} {path} %zu\\n", offsetof({name}, {path}));')
            lines.append(f'printf("fsize {name} {path} %zu\\n", sizeof{member});')
            if scalar:
                lines.append(f'printf("signed {name} {path} %d\\n", '
                             f"(int)((__typeof__{member})-1 < 0));")
    for c in consts:
        lines.append(f'printf("const {c} %llu\\n", (unsigned long long)({c}));')
    return lines


def build_and_run(cc, path, includes, incdirs, lines):
    """Compile and run the probe; a line that does not compile (a struct, field
    or constant our header lacks) is dropped and the probe rebuilt, so a
    missing item shows up as missing instead of breaking the whole run."""
    exe = path[:-2]
    head = ["/* generated by tests/abi/compare_linux_612.py */"]
    head += [f"#include {inc}" for inc in includes]
    head += ["#include <stddef.h>", "#include <stdio.h>", "", "int main(void)", "{"]
    lines = list(lines)
    for _ in range(10):
        with open(path, "w") as f:
            f.write("\n".join(head + ["\t" + line for line in lines] + ["\treturn 0;", "}", ""]))
        cmd = cc + ["-std=gnu11", "-w"] + [f"-I{d}" for d in incdirs] + [path, "-o", exe]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode == 0:
            break
        bad = {int(m) - len(head) - 1
               for m in re.findall(re.escape(os.path.basename(path)) + r":(\d+):\d+: error",
                                   p.stderr)}
        bad = {i for i in bad if 0 <= i < len(lines)}
        if not bad:
            return None, p.stderr
        lines = [line for i, line in enumerate(lines) if i not in bad]
    else:
        return None, p.stderr
    p = subprocess.run([exe], capture_output=True, text=True, timeout=60)
    if p.returncode:
        return None, p.stderr
    values = {}
    for line in p.stdout.splitlines():
        key, _, value = line.rpartition(" ")
        values[key] = int(value)
    return values, ""


def compare(tap, structs, consts, theirs, ours, partial=False):
    """One TAP point per struct and per constant; return what was compared.
    With @partial, what our headers do not have yet is skipped (and listed)
    rather than failed: our <linux/vfio.h> transcribes only part of 6.12's."""
    n_fields = 0
    if partial:
        absent = [n for n, _ in structs if f"size {n}" not in ours]
        absent += [c for c in consts if f"const {c}" not in ours]
        structs = [(n, f) for n, f in structs if f"size {n}" in ours]
        consts = [c for c in consts if f"const {c}" in ours]
        tap.note(f"not transcribed yet ({len(absent)}): " + ", ".join(absent))
    for name, fields in structs:
        keys = [f"size {name}", f"align {name}"]
        for path, scalar in fields:
            keys += [f"offset {name} {path}", f"fsize {name} {path}"]
            if scalar:
                keys.append(f"signed {name} {path}")
        bad, notes = [], []
        for k in keys:
            if k not in theirs:
                continue  # not a probe that compiles (signedness of a struct member)
            if k not in ours:
                bad.append(f"{k}: missing from our headers (6.12: {theirs[k]})")
            elif ours[k] == theirs[k]:
                continue
            elif k == f"size {name}" and name in KNOWN_GROWTH and ours[k] > theirs[k]:
                notes.append(f"known difference: {name} is {ours[k]} bytes "
                             f"(6.12: {theirs[k]}): {KNOWN_GROWTH[name]}")
            else:
                bad.append(f"{k}: 6.12 has {theirs[k]}, ours {ours[k]}")
        n_fields += len(fields)
        tap.ok(not bad, f"{name}: size, alignment and {len(fields)} fields as in 6.12",
               bad + notes)
    for c in consts:
        k = f"const {c}"
        if k not in ours:
            tap.ok(False, f"{c} = {theirs[k]:#x} as in 6.12", [f"{c}: missing from our headers"])
        else:
            tap.ok(ours[k] == theirs[k], f"{c} = {theirs[k]:#x} as in 6.12",
                   [] if ours[k] == theirs[k] else [f"ours: {ours[k]:#x}"])
    return len(structs), n_fields, len(consts)


def build_selftest(tap, cc, src, work, uapi):
    """Build the unmodified 6.12 selftest with our iommufd_test.h in its place."""
    root = os.path.join(work, "selftest-tree")
    shutil.rmtree(root, ignore_errors=True)
    sel = os.path.join(root, "tools/testing/selftests")
    shutil.copytree(os.path.join(src, "tools/testing/selftests/iommu"),
                    os.path.join(sel, "iommu"))
    for h in ("kselftest_harness.h", "kselftest.h"):
        shutil.copy(os.path.join(src, "tools/testing/selftests", h), sel)
    drv = os.path.join(root, "drivers/iommu/iommufd")
    os.makedirs(drv)
    shutil.copy(os.path.join(uapi, "linux/iommufd_test.h"), drv)
    # The selftest Makefile's flags, plus -Werror: our headers must add no warning.
    flags = ["-D_GNU_SOURCE", "-Wall", "-O2", "-Wno-unused-function", "-Werror", f"-I{uapi}"]
    for prog in ("iommufd", "iommufd_fail_nth"):
        cdir = os.path.join(sel, "iommu")
        cmd = cc + flags + [f"{prog}.c", "-o", os.path.join(work, prog)]
        p = subprocess.run(cmd, cwd=cdir, capture_output=True, text=True)
        diag = p.stderr.splitlines()[:20] if p.returncode else []
        tap.ok(p.returncode == 0, f"the 6.12 selftest {prog}.c builds against our headers", diag)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    srcroot, work = sys.argv[1], sys.argv[2]
    tarball = os.environ.get("UIOMMU_LINUX_SOURCE_612", DEFAULT_TARBALL)
    if len(sys.argv) > 3:
        tarball = sys.argv[3]
    if not os.path.exists(tarball):
        print("1..0 # SKIP linux-source-6.12 not installed")
        return 0
    os.makedirs(work, exist_ok=True)
    cc = shlex.split(os.environ.get("CC", "cc"))
    uapi = os.path.abspath(os.path.join(srcroot, "include/uapi"))
    src = extract(tarball, work)
    k_iommufd = os.path.join(src, "include/uapi/linux/iommufd.h")
    k_test = os.path.join(src, "drivers/iommu/iommufd/iommufd_test.h")

    tap = Tap()
    structs, consts = [], []
    for path in (k_iommufd, k_test):
        s, c = parse_header(path)
        structs += s
        consts += c

    probes = {
        "linux-6.12": (["<linux/iommufd.h>", f'"{k_test}"'], [os.path.join(src, "include/uapi")]),
        "uiommu": (["<linux/iommufd.h>", "<linux/iommufd_test.h>"], [uapi]),
    }
    results = {}
    lines = probe_lines(structs, consts)
    for label, (includes, incdirs) in probes.items():
        values, err = build_and_run(cc, os.path.join(work, f"probe-{label}.c"), includes,
                                    incdirs, lines)
        tap.ok(values is not None, f"probe program against {label} headers builds and runs",
               err.splitlines()[:20])
        results[label] = values
    if all(results.values()):
        n_sizes, n_fields, n_consts = compare(tap, structs, consts, results["linux-6.12"],
                                              results["uiommu"])
        tap.note(f"compared with 6.12: {n_sizes} structs (size and alignment), {n_fields} "
                 f"fields (offset, size, signedness of scalars), {n_consts} constants")
    # <linux/vfio.h>: what we transcribe must match 6.12 (sPAPR, EEH, migration,
    # device features ... are not transcribed yet and are listed, not failed).
    k_vfio = os.path.join(src, "include/uapi/linux/vfio.h")
    vstructs, vconsts = parse_header(k_vfio)
    vlines = probe_lines(vstructs, vconsts)
    vresults = {}
    for label, incdir, extra in (("linux-6.12", os.path.join(src, "include/uapi"), ["-D__user="]),
                                 ("uiommu", uapi, [])):
        values, err = build_and_run(cc + extra, os.path.join(work, f"probe-vfio-{label}.c"),
                                    ["<linux/vfio.h>"], [incdir], vlines)
        tap.ok(values is not None, f"vfio.h probe against {label} headers builds and runs",
               err.splitlines()[:20])
        vresults[label] = values
    if all(vresults.values()):
        n_sizes, n_fields, n_consts = compare(tap, vstructs, vconsts, vresults["linux-6.12"],
                                              vresults["uiommu"], partial=True)
        tap.note(f"vfio.h compared with 6.12: {n_sizes} structs, {n_fields} fields, "
                 f"{n_consts} constants")
    build_selftest(tap, cc, src, work, uapi)
    tap.emit()


if __name__ == "__main__":
    sys.exit(main())
