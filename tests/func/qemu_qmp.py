# SPDX-License-Identifier: MIT
"""
What the QEMU tests (test_qemu_vfio.py, test_qemu_dma.py) share: finding
qemu-system-x86_64 (the TAP skip when it is absent), the environment of a
sanitizer build, and QEMU started under `uiommu exec` with QMP on its
stdin/stdout, driven as a user at the monitor would drive it.

In a sanitizer build (UIOMMU_TEST_PRELOAD_FIRST names the sanitizer's
runtime, UIOMMU_TEST_SHIM the shim) QEMU is started with
LD_PRELOAD=<runtime>:<shim> and the UIOMMU_* variables that `uiommu exec`
would set: the instrumented shim must not run before its runtime is
initialised, and QEMU's libraries call stat() from their constructors. The
leaks of QEMU's own allocations (through GLib) are suppressed; the
library's are not.
"""
import json
import os
import re
import shutil
import subprocess
import sys


def find_qemu():
    """qemu-system-x86_64's path; a TAP skip and exit when it is not installed."""
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        print("1..0 # SKIP qemu-system-x86_64 is not installed "
              "(scripts/install-deps.sh installs it)")
        sys.exit(0)
    return qemu


def qemu_env(tmp):
    """The environment QEMU runs in (leak suppressions for GLib in a sanitizer build)."""
    env = dict(os.environ)
    if os.environ.get("UIOMMU_TEST_PRELOAD_FIRST"):
        supp = os.path.join(tmp, "lsan.supp")
        with open(supp, "w") as f:
            f.write("leak:libglib-2.0.so\n")
        env["LSAN_OPTIONS"] = "suppressions=" + supp
    return env


class Qemu:
    """QEMU (@qemu_args) under `uiommu exec --summary --trace @trace [--config @config]`."""

    def __init__(self, uiommu, qemu_args, env, summary, trace, config=None, slot=3):
        self.summary = summary
        self.slot = slot
        preload_first = os.environ.get("UIOMMU_TEST_PRELOAD_FIRST")
        run_env = dict(env)
        if preload_first:
            # What `uiommu exec --summary=F --trace T --config C` sets, runtime first.
            open(summary, "w").close()
            run_env.update(LD_PRELOAD=preload_first + ":" + os.environ["UIOMMU_TEST_SHIM"],
                           UIOMMU_SUMMARY_FILE=summary, UIOMMU_TRACE=trace)
            if config:
                run_env["UIOMMU_CONFIG"] = config
            args = qemu_args
        else:
            args = [uiommu, "exec", "--summary=" + summary, "--trace", trace]
            if config:
                args += ["--config", config]
            args += ["--", *qemu_args]
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=run_env)
        self.greeting = self._read()

    def start(self):
        """The QMP greeting and qmp_capabilities: True when QEMU is up and answering."""
        return (self.greeting is not None and "QMP" in self.greeting and
                self.qmp("qmp_capabilities") == {"return": {}})

    def _read(self):
        while True:
            line = self.p.stdout.readline()
            if not line:
                return None
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def qmp(self, cmd, **args):
        """The command's answer; None when QEMU is gone."""
        try:
            self.p.stdin.write(json.dumps({"execute": cmd, "arguments": args}) + "\n")
            self.p.stdin.flush()
        except (BrokenPipeError, ValueError):
            return None
        return self._read()

    def hmp(self, line):
        r = self.qmp("human-monitor-command", **{"command-line": line})
        return r.get("return", "") if r else ""

    def cfg_addr(self, reg):
        return 0x80000000 | (self.slot << 11) | reg

    def cfg_read(self, reg):
        """A dword of the guest's config space of 00:<slot>.0, as a guest reads it (port I/O)."""
        self.hmp("o /w 0xcf8 %#x" % self.cfg_addr(reg))
        m = re.search(r"= (0x[0-9a-f]+)", self.hmp("i /w 0xcfc"))
        return int(m.group(1), 16) if m else None

    def cfg_write(self, reg, value, fmt="w"):
        self.hmp("o /w 0xcf8 %#x" % self.cfg_addr(reg))
        self.hmp("o /%s 0xcfc %#x" % (fmt, value))

    def finish(self):
        """quit (if still running); exit status, stderr, summary (once; then the same)."""
        if getattr(self, "result", None):
            return self.result
        if self.greeting is not None:
            self.qmp("quit")
        try:
            _, err = self.p.communicate(timeout=60)
        except (subprocess.TimeoutExpired, BrokenPipeError):
            self.p.kill()
            _, err = self.p.communicate()
        summary = ""
        if os.path.exists(self.summary):
            with open(self.summary) as f:
                summary = f.read()
        self.result = (self.p.returncode, err, summary)
        return self.result
