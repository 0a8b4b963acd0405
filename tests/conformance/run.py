#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run the Linux kernel's own iommufd selftest, unmodified, against uiommu.

The selftest is GPL-2.0-only kernel code, so nothing of it lives in this
repository. At test time this script:

  1. installs Debian's linux-source-6.12 package when it is missing (as root;
     otherwise the run is skipped with the reason);
  2. extracts tools/testing/selftests/iommu/, the kselftest harness headers
     and drivers/iommu/iommufd/iommufd_test.h into the build directory;
  3. replaces the kernel's iommufd_test.h by ours, and puts our
     <linux/iommufd.h> first on the include path (the selftest must build
     against the ABI we implement, not against the kernel's headers);
  4. builds the iommufd and iommufd_fail_nth programs out of tree;
  5. reserves huge pages when it can (the test maps MAP_HUGETLB buffers
     itself) and gives the old reservation back afterwards;
  6. runs the program under `uiommu exec`, reads its TAP output, and compares
     every test with tests/conformance/expected.txt.

It prints TAP: one point per selftest test. A test that passes as expected is
"ok"; a test that expected.txt says cannot pass here, and does not, is "ok ...
# SKIP" with the reason; anything else -- an unexpected failure, or an
unexpected pass (expected.txt is stale) -- is "not ok". The last line counts
passed/failed/skipped as the selftest itself reported them.
"""
import argparse
import fcntl
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import time

PKG = "linux-source-6.12"
TARBALL = "/usr/src/linux-source-6.12.tar.xz"
TOP = "linux-source-6.12"
MEMBERS = [
    TOP + "/tools/testing/selftests/iommu/iommufd.c",
    TOP + "/tools/testing/selftests/iommu/iommufd_fail_nth.c",
    TOP + "/tools/testing/selftests/iommu/iommufd_utils.h",
    TOP + "/tools/testing/selftests/kselftest_harness.h",
    TOP + "/tools/testing/selftests/kselftest.h",
    TOP + "/drivers/iommu/iommufd/iommufd_test.h",
]
# The largest MAP_HUGETLB user is the 128 MiB dirty-tracking variant (64 huge
# pages); 70 were measured to be enough for the whole run, 128 leaves room.
HUGEPAGES = 128
NR_HUGEPAGES = "/proc/sys/vm/nr_hugepages"
CAP_SYS_RESOURCE = 24

# Conditions an expected.txt line can be bound to: the line applies only when
# its condition holds on this machine.
CONDITIONS = {
    "always": lambda env: True,
    "no-hugetlb": lambda env: not env["hugetlb"],
    "no-cap-sys-resource": lambda env: not env["cap_sys_resource"],
}


def log(msg):
    print("# " + msg, flush=True)


def bail_skip(reason):
    """Nothing can be run here: one skipped point, with the reason."""
    print("1..1")
    print("ok 1 conformance # SKIP " + reason)
    sys.exit(0)


def bail_fail(reason):
    print("1..1")
    print("not ok 1 conformance: " + reason)
    sys.exit(1)


def ensure_tarball():
    if os.path.exists(TARBALL):
        return
    if os.geteuid() != 0:
        bail_skip(f"{TARBALL} is missing and installing {PKG} needs root")
    log(f"installing {PKG} (Debian package) ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", PKG],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if r.returncode != 0 or not os.path.exists(TARBALL):
        # The package index may be stale on a fresh machine.
        subprocess.run(["apt-get", "update"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env=env)
        r = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", PKG],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if r.returncode != 0 or not os.path.exists(TARBALL):
        bail_fail(f"apt-get install {PKG} failed:\n" + r.stdout[-2000:])


def extract(work):
    """Install the package if needed and extract the few files we need, once
    per tarball version.

    Both programs' runs share one extraction; a lock file orders them when
    meson runs them in parallel."""
    with open(os.path.join(work, "src.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # Under the lock: two apt-get runs at once would fight over dpkg's.
        ensure_tarball()
        return _extract_locked(work)


def _extract_locked(work):
    st = os.stat(TARBALL)
    stamp_val = f"{st.st_size} {int(st.st_mtime)}\n"
    src = os.path.join(work, "src")
    stamp = os.path.join(work, "src.stamp")
    if os.path.exists(stamp) and open(stamp).read() == stamp_val:
        return os.path.join(src, TOP)
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    log(f"extracting the selftest from {TARBALL} ...")
    r = subprocess.run(["tar", "-xJf", TARBALL, "-C", src] + MEMBERS,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        bail_fail("tar failed:\n" + r.stdout[-2000:])
    with open(stamp, "w") as f:
        f.write(stamp_val)
    return os.path.join(src, TOP)


def build(work, tree, uapi, cc, prog):
    """Build @prog against our uAPI headers in @work; return its path."""
    # Our iommufd_test.h where iommufd_utils.h includes it by relative path
    # (replaced atomically: the other program may be compiling from it).
    dst = os.path.join(tree, "drivers/iommu/iommufd/iommufd_test.h")
    shutil.copyfile(os.path.join(uapi, "linux", "iommufd_test.h"), dst + f".{os.getpid()}")
    os.replace(dst + f".{os.getpid()}", dst)
    # Our <linux/iommufd.h> ahead of the system's; <linux/vfio.h> and the
    # rest come from the system's linux-libc-dev, as in a kernel-less build.
    inc = os.path.join(work, "include")
    os.makedirs(os.path.join(inc, "linux"), exist_ok=True)
    shutil.copyfile(os.path.join(uapi, "linux", "iommufd.h"),
                    os.path.join(inc, "linux", "iommufd.h"))
    testdir = os.path.join(tree, "tools/testing/selftests/iommu")
    exe = os.path.join(work, prog)
    # The selftest's own Makefile flags: -Wall -O2 -Wno-unused-function.
    cmd = [cc, "-D_GNU_SOURCE", "-Wall", "-O2", "-Wno-unused-function", "-I", inc,
           os.path.join(testdir, prog + ".c"), "-o", exe + ".tmp", "-lpthread"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        bail_fail(f"building {prog} against our headers failed:\n" + r.stdout[-4000:])
    os.replace(exe + ".tmp", exe)
    return exe


def have_cap(cap):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> cap & 1)
    return False


def huge_free():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("HugePages_Free:"):
                return int(line.split()[1])
    return 0


def reserve_hugepages():
    """Make HUGEPAGES huge pages free if we may; return the value to restore."""
    if huge_free() >= HUGEPAGES:
        return None
    try:
        old = int(open(NR_HUGEPAGES).read())
        with open(NR_HUGEPAGES, "w") as f:
            f.write(str(old + HUGEPAGES - huge_free()))
        return old
    except (OSError, ValueError):
        return None


def restore_hugepages(old):
    if old is None:
        return
    try:
        with open(NR_HUGEPAGES, "w") as f:
            f.write(str(old))
    except OSError:
        pass


def load_expected(path, env):
    """expected.txt: 'PATTERN CONDITION REASON...' per line; '#' comments."""
    rules = []
    for n, line in enumerate(open(path), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3 or parts[1] not in CONDITIONS:
            bail_fail(f"{path}:{n}: expected 'PATTERN CONDITION REASON' with CONDITION one of "
                      + ", ".join(sorted(CONDITIONS)) + f", got: {line}")
        pattern, cond, reason = parts
        rules.append((pattern, CONDITIONS[cond](env), cond, reason, n))
    return rules


TAP_RE = re.compile(r"^(not )?ok (\d+) (\S+)(.*)$")


def run_suite(uiommu, exe, timeout):
    cmd = [uiommu, "exec", "--", exe]
    t0 = time.monotonic()
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout, cwd=os.path.dirname(exe))
        out, rc = r.stdout, r.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) \
            else (e.stdout or "")
        rc = "timeout"
    return out, rc, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uiommu", required=True, help="the uiommu CLI (for `uiommu exec`)")
    ap.add_argument("--uapi", required=True, help="our include/uapi directory")
    ap.add_argument("--expected", required=True, help="tests/conformance/expected.txt")
    ap.add_argument("--workdir", required=True, help="scratch directory (in the build tree)")
    ap.add_argument("--program", choices=("iommufd", "iommufd_fail_nth"), default="iommufd")
    ap.add_argument("--cc", default=os.environ.get("CC_FOR_CONFORMANCE", "cc"))
    ap.add_argument("--timeout", type=int, default=1200)
    args = ap.parse_args()
    # Meson passes build-tree paths relative to the build directory; the
    # suite runs from its own directory.
    args.uiommu = os.path.abspath(args.uiommu)

    os.makedirs(args.workdir, exist_ok=True)
    tree = extract(args.workdir)
    work = os.path.join(args.workdir, args.program)
    os.makedirs(work, exist_ok=True)
    exe = build(work, tree, args.uapi, args.cc, args.program)

    old = reserve_hugepages()
    try:
        env = {"hugetlb": huge_free() >= HUGEPAGES,
               "cap_sys_resource": have_cap(CAP_SYS_RESOURCE)}
        log(f"environment: {HUGEPAGES} free huge pages: {env['hugetlb']}; "
            f"CAP_SYS_RESOURCE: {env['cap_sys_resource']}")
        rules = load_expected(args.expected, env)
        out, rc, secs = run_suite(args.uiommu, exe, args.timeout)
    finally:
        restore_hugepages(old)

    with open(os.path.join(work, "output.txt"), "w") as f:
        f.write(out)
    results = {}
    for line in out.splitlines():
        m = TAP_RE.match(line)
        if not m:
            continue
        name = m.group(3)
        if "# SKIP" in m.group(4).upper():
            results[name] = "skip"
        else:
            results[name] = "fail" if m.group(1) else "pass"

    if not results:
        bail_fail(f"{args.program} printed no results (exit {rc}); output in {work}/output.txt:\n"
                  + "\n".join("# " + x for x in out.splitlines()[-30:]))

    counts = {"pass": 0, "fail": 0, "skip": 0}
    used = set()
    print(f"1..{len(results)}")
    for i, (name, status) in enumerate(results.items(), 1):
        counts[status] += 1
        rule = next((r for r in rules if fnmatch.fnmatchcase(name, r[0])), None)
        if rule:
            used.add(rule[4])
        expect_fail = rule is not None and rule[1]
        if status == "pass" and not expect_fail:
            print(f"ok {i} {name}")
        elif status == "fail" and expect_fail:
            print(f"ok {i} {name} # SKIP expected to fail here ({rule[2]}): {rule[3]}")
        elif status == "pass":
            print(f"not ok {i} {name}: passes, but {args.expected}:{rule[4]} says it cannot "
                  f"({rule[2]}); remove or narrow that line")
        elif status == "skip":
            print(f"not ok {i} {name}: skipped by the selftest itself")
        else:
            print(f"not ok {i} {name}: fails; the selftest said:")
            block = _test_log(out, name)
            for l in block:
                print("#   " + l)
    log(f"{args.program}: selftest exit {rc}, {secs:.1f} s; selftest counts: "
        f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped "
        f"(of {len(results)})")


def _test_log(out, name):
    """The selftest's own lines for one test, between its RUN and its result."""
    lines, keep = [], False
    for l in out.splitlines():
        if l.startswith("#  RUN") and l.split()[2] == name:
            keep = True
        if keep:
            lines.append(l.lstrip("# "))
            if TAP_RE.match(l):
                break
    return lines[-12:]


if __name__ == "__main__":
    main()
