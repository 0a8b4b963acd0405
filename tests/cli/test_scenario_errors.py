# SPDX-License-Identifier: MIT
"""
Scenario loader errors: every tests/data/bad-*.json must make `uiommu walk`
exit 2 with nothing on stdout and exactly the one-line message of the
matching .err file (file:line:column: path: what was expected, got what).
Run from the source root so that the file names in messages are relative.
"""
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Tap, run  # noqa: E402

uiommu = sys.argv[1]
files = sorted(glob.glob("tests/data/bad-*.json"))
t = Tap(len(files) + 3)
t.ok(len(files) >= 20, f"{len(files)} bad scenario files found")
for f in files:
    with open(f[:-5] + ".err") as e:
        want = e.read()
    rc, out, err = run(uiommu, "walk", f, "--iova", "0x1000")
    t.ok(rc == 2 and out == "" and err == want,
         f"{os.path.basename(f)}: {want.strip()}",
         f"exit {rc}\nstdout: {out!r}\nstderr: {err!r}\nwanted: {want!r}")

# Files that cannot be read have no line: the file and the reason.
for path, why in (("tests/data", "not a regular file"),
                  ("tests/data/no-such-scenario.json", "No such file or directory")):
    rc, out, err = run(uiommu, "walk", path, "--iova", "0x1000")
    t.ok(rc == 2 and out == "" and err == f"uiommu walk: {path}: {why}\n",
         f"{path}: {why}", f"exit {rc}\nstdout: {out!r}\nstderr: {err!r}")
t.done()
