# SPDX-License-Identifier: MIT
"""
uiommu exec: runs a program with the preload shim and passes its exit
status through (128 + N for signal N, 127 / 126 when it cannot be run),
--summary reports what each process did with the library, its emulated
IOMMUs' translation caches included (to stderr, or to
a file), --config and --trace reach the program's environment, LD_PRELOAD
keeps what was there after the shim, and the private debugfs stand-in is
removed afterwards. Usage errors exit 2, a topology file that does not load
among them (checked before the program runs, FILE:LINE:COL message), and
the program sees the topology's groups; --print-topology shows it.
"""
import os
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Tap, run  # noqa: E402

uiommu, helper = sys.argv[1], sys.argv[2]
t = Tap(46 + 10 + 1)
tmp = tempfile.mkdtemp(prefix="uiommu-exec-test.")


def ex(*args, env=None):
    return run(uiommu, "exec", *args) if env is None else run_env(env, "exec", *args)


def run_env(env, *args):
    import subprocess
    p = subprocess.run([uiommu, *args], capture_output=True, text=True, timeout=60,
                       env={**os.environ, **env})
    return p.returncode, p.stdout, p.stderr


# The program runs with the library as its /dev/iommu.
rc, out, err = ex("--", helper, "ioas", "2")
t.ok(rc == 0 and out == "ok 2\n", "a program allocates IOASes through the shim", (rc, out, err))
t.ok("uiommu summary" not in err, "no summary unless asked", err)

# --summary: to stderr, one block per process that used the library.
rc, out, err = ex("--summary", "--", helper, "ioas", "3")
t.ok(rc == 0 and out == "ok 3\n", "--summary: the program still runs", (rc, out, err))
t.ok(err.count("uiommu summary: pid ") == 1 and "(exec_helper)" in err,
     "--summary: one block, named after the program", err)
t.ok("objects: ioas 3" in err, "--summary: objects by type", err)
t.ok("ioctls: 3 (ok 3)" in err and "IOMMU_IOAS_ALLOC 3" in err, "--summary: ioctls", err)
t.ok("files: iommufd 1" in err, "--summary: files", err)
t.ok("caches:" not in err, "--summary: no caches line when no emulated IOMMU was built", err)

# A program that opens VFIO groups builds the machine: the summary counts its
# IOMMUs' translation caches (one per IOMMU of the topology), nothing translated.
rc, out, err = ex("--summary", "--", helper, "groups")
rc2, topo, _ = ex("--print-topology")
iommus = sum(line.startswith("iommu ") for line in topo.splitlines())
t.ok(rc == 0 and rc2 == 0 and iommus >= 1 and
     "caches: %d, hits/misses iotlb 0/0, walk_s1 0/0, walk_s2 0/0, ipa 0/0, cfg 0/0\n" % iommus
     in err, "--summary: a caches line, one cache per IOMMU of the (SMMUv3) topology", (iommus, err))

rc, out, err = ex("-s", helper, "vfio")
t.ok(rc == 0 and out == "api 0 type1v2 1\n", "a VFIO container through the shim", (rc, out, err))
t.ok("files: vfio-container 1" in err and "VFIO_GET_API_VERSION 1" in err
     and "VFIO_CHECK_EXTENSION 1" in err, "--summary: VFIO files and ioctls by name", err)

rc, out, err = ex("-s", helper, "fork")
t.ok(rc == 0 and err.count("uiommu summary: pid ") == 2, "--summary: a fork()ed child reports too",
     (rc, out, err))
t.ok(err.count("objects: ioas 1\n") == 2, "--summary: each process counts its own work", err)

path = os.path.join(tmp, "summary.txt")
with open(path, "w") as f:
    f.write("stale\n")
rc, out, err = ex("--summary=" + path, "--", helper, "ioas", "1")
text = open(path).read()
t.ok(rc == 0 and "uiommu summary" not in err, "--summary=FILE: nothing on stderr", (rc, err))
t.ok(text.startswith("uiommu summary: pid ") and "objects: ioas 1" in text
     and "stale" not in text, "--summary=FILE: the file holds the summary", text)

rc, out, err = ex("--summary", "--", "true")
t.ok(rc == 0 and "no process opened an emulated file" in err,
     "--summary: a program that never used the library", (rc, err))

# Exit status.
rc, _, _ = ex("--", "sh", "-c", "exit 3")
t.ok(rc == 3, "exit status passed through", rc)
rc, _, _ = ex("--", "sh", "-c", "kill -TERM $$")
t.ok(rc == 128 + 15, "killed by SIGTERM: 143", rc)
rc, _, _ = ex("--", "sh", "-c", "kill -KILL $$")
t.ok(rc == 128 + 9, "killed by SIGKILL: 137", rc)
rc, _, err = ex("--", os.path.join(tmp, "no-such-program"))
t.ok(rc == 127 and "no-such-program: No such file or directory" in err,
     "a missing program: 127", (rc, err))
noexec = os.path.join(tmp, "not-executable")
with open(noexec, "w") as f:
    f.write("#!/bin/sh\n")
os.chmod(noexec, stat.S_IRUSR | stat.S_IWUSR)
rc, _, err = ex("--", noexec)
t.ok(rc == 126 and "Permission denied" in err, "a program that cannot run: 126", (rc, err))

# Options of the program are its own (options stop at PROGRAM).
rc, out, err = ex("sh", "-c", "echo $0 $1", "--summary", "-x")
t.ok(rc == 0 and out == "--summary -x\n", "arguments after PROGRAM are the program's", (rc, out))

# The environment the library reads.
rc, out, _ = ex("--", helper, "env", "LD_PRELOAD", env={"LD_PRELOAD": "libfoo.so"})
first, _, rest = out.strip().partition(":")
t.ok(rc == 0 and first.endswith("/libuiommu-preload.so") and os.path.isabs(first),
     "LD_PRELOAD starts with the shim", out)
t.ok(rest == "libfoo.so", "an existing LD_PRELOAD follows it", out)
cfg = os.path.join(tmp, "topology.json")
with open(cfg, "w") as f:
    f.write('{"iommus": [{"name": "s", "model": "smmuv3"}], "devices": [\n'
            '  {"type": "dmatest", "name": "0000:00:01.0", "group": 5},\n'
            '  {"type": "dmatest", "name": "0000:00:02.0", "group": 5},\n'
            '  {"type": "dmatest", "name": "0000:00:03.0", "group": 6}]}\n')
rc, out, _ = run_env({}, "exec", "--config", os.path.relpath(cfg), "--", helper, "env",
                     "UIOMMU_CONFIG")
t.ok(rc == 0 and out.strip() == os.path.abspath(cfg), "--config: UIOMMU_CONFIG, absolute", out)
rc, out, err = ex("--config", os.path.join(tmp, "missing.json"), "--", "true")
t.ok(rc == 2 and out == "" and "missing.json: No such file or directory" in err,
     "--config: a missing file fails before the program runs", (rc, out, err))

# The topology: the program's groups, a bad file refused up front, --print-topology.
rc, out, err = ex("--", helper, "groups")
t.ok(rc == 0 and out == "groups 1 2\n", "the default topology: groups 1 and 2", (rc, out, err))
rc, out, err = ex("--config", cfg, "--", helper, "groups")
t.ok(rc == 0 and out == "groups 5 6\n", "--config: the file's groups 5 and 6", (rc, out, err))
bad = os.path.join(tmp, "bad.json")
with open(bad, "w") as f:
    f.write('{"iommus": [{"name": "s", "model": "smmuv3"}],\n'
            ' "devices": [{"type": "dmatest", "name": "0000:00:01.0", "group": "one"}]}\n')
rc, out, err = ex("--config", bad, "--", "sh", "-c", "echo ran")
t.ok(rc == 2 and out == "" and err == "uiommu exec: " + bad + ":2:67: devices[0].group: "
     "expected a number from 0 to 0x7fffffff, got \"one\"\n",
     "--config: a bad file is a usage error, the program does not run", (rc, out, err))
rc, out, err = ex("--", "sh", "-c", "echo ran", env={"UIOMMU_CONFIG": bad})
t.ok(rc == 2 and out == "" and bad + ":2:67: devices[0].group" in err,
     "UIOMMU_CONFIG from the environment is checked too", (rc, out, err))

# More bad topology files: each is one line on stderr with the file, the line
# (and column) and what was expected, exit 2, and the program never runs.
# Columns by hand; jansson puts a token it cannot read at its last character.
DEV = '{"iommus": [{"name": "s", "model": "smmuv3"}],\n "devices": [{"type": "dmatest", ' \
      '"name": "0000:00:01.0", "group": GROUP}]}\n'
BAD_TOPOLOGIES = [
    ("empty", "", "{f}:1:1: invalid JSON: '[' or '{{' expected near end of file"),
    ("truncated", '{"iommus": [', "{f}:1:"),
    ("an array", "[]\n", "{f}:1:1: expected an object at the top level, got an array"),
    ("unknown key", '{"iommus": [], "devices": [], "colour": 1}\n',
     "{f}:1:31: colour: unknown key (expected description, iommus, devices)"),
    ("a run scenario", '{"machine": {}, "steps": []}\n',
     "{f}:1:2: machine: unknown key (expected description, iommus, devices; this looks like a "
     "run scenario, for uiommu run, which describes its own machine)"),
    ("a page-table scenario", '{"memory": {}, "stage1": {}}\n',
     "{f}:1:2: memory: unknown key (expected description, iommus, devices; this looks like a "
     "page-table scenario, for uiommu walk and uiommu trace)"),
    ("wrong type", '{"iommus": {}, "devices": []}\n',
     "{f}:1:12: iommus: expected an array of IOMMU instances, got an object"),
    ("a fraction", DEV.replace("GROUP", "1.0"),
     "{f}:2:67: devices[0].group: expected a number from 0 to 0x7fffffff, got 1.0"),
    ("out of range", DEV.replace("GROUP", "2147483648"),
     "{f}:2:67: devices[0].group: expected a number from 0 to 0x7fffffff, got 2147483648"),
    ("too big for JSON", DEV.replace("GROUP", "9" * 20),
     "{f}:2:86: invalid JSON: too big integer near '" + "9" * 20 + "' (expected at most "
     "2^63 - 1; write larger numbers as strings, e.g. \"0xffff_ffff_ffff_ffff\")"),
]
for what, text, want in BAD_TOPOLOGIES:
    f = os.path.join(tmp, "badtopo.json")
    with open(f, "w") as fh:
        fh.write(text)
    want = "uiommu exec: " + want.format(f=f)
    rc, out, err = ex("--config", f, "--", "sh", "-c", "echo ran")
    exact = not want.endswith(":")
    t.ok(rc == 2 and out == "" and err.count("\n") == 1 and
         (err == want + "\n" if exact else err.startswith(want) and "expected" in err),
         f"--config, {what}: {want}", (rc, out, err))
rc, out, err = ex("--config", tmp, "--", "sh", "-c", "echo ran")
t.ok(rc == 2 and out == "" and err == f"uiommu exec: {tmp}: not a regular file\n",
     "--config, a directory: not a regular file", (rc, out, err))
rc, out, err = run_env({"UIOMMU_CONFIG": os.path.relpath(cfg)}, "exec", "--", helper, "env",
                       "UIOMMU_CONFIG")
t.ok(rc == 0 and out.strip() == os.path.abspath(cfg),
     "UIOMMU_CONFIG from the environment: passed on absolute", (rc, out, err))
rc, out, err = ex("--print-topology")
t.ok(rc == 0 and out.startswith("topology (default)\n") and
     "group 2: /dev/vfio/2, behind smmu0\n  0000:00:02.0 dmatest, SID 0x10, PASID width 20, "
     "/dev/vfio/devices/vfio1\n" in out, "--print-topology: the default one", (rc, out, err))
rc, out, err = ex("--config", cfg, "--print-topology=json")
printed = os.path.join(tmp, "printed.json")
with open(printed, "w") as f:
    f.write(out)
rc2, out2, err2 = ex("--config", printed, "--print-topology")
rc3, out3, _ = ex("--config", cfg, "--print-topology")
t.ok(rc == 0 and rc2 == 0 and out2.replace(printed, cfg) == out3,
     "--print-topology=json: a file that loads back to the same topology", (rc, out, err2))
rc, out, err = ex("--print-topology", "--", helper, "groups")
t.ok(rc == 0 and out == "groups 1 2\n" and err.startswith("topology (default)\n"),
     "--print-topology with a PROGRAM: to stderr, then the program", (rc, out, err))
rc, out, err = ex("--print-topology=xml")
t.ok(rc == 2 and "--print-topology=xml: expected json or text" in err,
     "--print-topology=xml: usage error", (rc, err))
rc, out, err = ex("--trace", "iommufd_ioctl", "--", helper, "ioas", "1")
t.ok(rc == 0 and "iommufd_ioctl" in err, "--trace: the program's events are logged", (rc, err))
rc, out, _ = ex("--trace", "iommufd_*", "--", helper, "env", "UIOMMU_TRACE")
t.ok(rc == 0 and out.strip() == "iommufd_*", "--trace: UIOMMU_TRACE", out)
rc, out, err = ex("--trace", "nosuchevent", "--", "true")
t.ok(rc == 2 and "matches no trace event" in err, "--trace: a pattern that matches nothing",
     (rc, err))

# The debugfs stand-in exists for the program and is gone afterwards.
rc, out, _ = ex("--", helper, "env", "UIOMMU_DEBUGFS_DIR")
d = out.strip()
t.ok(rc == 0 and d.startswith("/") and "uiommu-debugfs." in d, "UIOMMU_DEBUGFS_DIR set", out)
t.ok(not os.path.exists(d), "the stand-in is removed after the program", d)
rc, out, _ = ex("--", helper, "debugfs")
t.ok(rc == 0 and out.strip() == "present", "the program sees /sys/kernel/debug/failslab", out)

# Finding the shim.
rc, out, err = run_env({"UIOMMU_PRELOAD": os.path.join(tmp, "nope.so")}, "exec", "--", "true")
t.ok(rc == 1 and "nope.so: not a file" in err, "UIOMMU_PRELOAD naming nothing", (rc, err))
rc, out, err = run_env({"UIOMMU_PRELOAD": "", "UIOMMU_X": "1"}, "-v", "exec", "--", "true")
t.ok(rc == 0 and "preloading " in err and "libuiommu-preload.so" in err,
     "-v says which shim", (rc, err))

# Usage errors.
rc, out, err = ex()
t.ok(rc == 2 and out == "" and err.startswith("uiommu exec: expected a PROGRAM to run"),
     "no program: usage error", (rc, out, err))
rc, out, err = ex("--summary=", "true")
t.ok(rc == 2 and "--summary=: expected a file name" in err, "--summary= with nothing", (rc, err))
rc, out, err = run(uiommu, "help", "exec")
t.ok(rc == 0 and out.startswith("usage: uiommu exec"), "uiommu help exec", (rc, out, err))

for root, dirs, files in os.walk(tmp, topdown=False):
    for n in files:
        os.unlink(os.path.join(root, n))
    for n in dirs:
        os.rmdir(os.path.join(root, n))
os.rmdir(tmp)
t.done()
