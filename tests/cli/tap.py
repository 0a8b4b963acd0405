# SPDX-License-Identifier: MIT
"""Tiny TAP producer and a runner for the uiommu CLI, shared by tests/cli."""
import subprocess
import sys


class Tap:
    def __init__(self, plan):
        self.plan = plan
        self.n = 0
        self.failed = 0
        print(f"1..{plan}", flush=True)

    def ok(self, cond, desc, diag=None):
        self.n += 1
        if cond:
            print(f"ok {self.n} - {desc}", flush=True)
        else:
            self.failed += 1
            print(f"not ok {self.n} - {desc}", flush=True)
            for line in str(diag if diag is not None else "").splitlines():
                print(f"# {line}", flush=True)
        return cond

    def done(self):
        if self.n != self.plan:
            print(f"# planned {self.plan} tests but ran {self.n}", flush=True)
            sys.exit(1)
        sys.exit(1 if self.failed else 0)


def run(uiommu, *args):
    """Run the CLI; return (exit status, stdout, stderr). Never raises on failure."""
    p = subprocess.run([uiommu, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr
