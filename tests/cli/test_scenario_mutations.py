# SPDX-License-Identifier: MIT
"""
No crash on bad input: the good scenarios, mutated at random (bytes deleted,
changed, duplicated, or tokens such as huge numbers, NUL escapes and stray
brackets inserted) and walked. Every run must end with exit 0 or 1 and,
when it fails, exactly one message line on stderr and nothing on stdout.
The seed is fixed (and printed) so a failure can be replayed; the mutated
file that failed is kept and named in the diagnostic.
"""
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Tap, run  # noqa: E402

uiommu = sys.argv[1]
RUNS = int(os.environ.get("UIOMMU_MUTATIONS", "400"))
SEED = int(os.environ.get("UIOMMU_SEED", "20250101"))
SOURCES = ["scenarios/nested-4k.json", "scenarios/x86-vtd-4level.json",
           "tests/data/pasids.json", "tests/data/s1-only.json", "tests/data/s2-only.json"]
TOKENS = [b'"0x', b'"4K"', b'"2M"', b"-1", b"1e400", b'"\\u0000"', b"{", b"}", b"[", b"]", b",",
          b'"', b"99999999999999999999", b'"0xffffffffffffffff"', b'"16E"', b"null", b'"rwxu"',
          b'"vtd-ss"', b'"x86"', b'"vmsa-s2"', b'"tce"', b"0", b'"sl0": 3,', b'"\xc3\xa9"',
          b"\xff", b'"flags": ["hw-ad"],', b'"size": "0",']

rnd = random.Random(SEED)
srcs = [open(f, "rb").read() for f in SOURCES]
tmp = tempfile.mkdtemp(prefix="uiommu-mut-")
GROUP = 100
print(f"# seed {SEED}, {RUNS} runs", flush=True)
t = Tap((RUNS + GROUP - 1) // GROUP)
bad = []
for i in range(RUNS):
    s = bytearray(rnd.choice(srcs))
    for _ in range(rnd.randint(1, 4)):
        op, p = rnd.randrange(4), rnd.randrange(len(s) + 1)
        if op == 0 and s:
            del s[p:p + rnd.randint(1, 8)]
        elif op == 1:
            s[p:p] = rnd.choice(TOKENS)
        elif op == 2 and s:
            s[min(p, len(s) - 1)] = rnd.randrange(256)
        else:
            q = rnd.randrange(len(s) + 1)
            s[p:p] = s[q:q + rnd.randint(1, 30)]
    path = os.path.join(tmp, f"m{i}.json")
    with open(path, "wb") as f:
        f.write(s)
    args = ["walk", path, "--iova", rnd.choice(["0x8040201000", "0x7f1234567abc", "0x10000000",
                                                "0", "0x40001000", "0x20001234"]),
            "-a", rnd.choice(["r", "w", "rwx", "ru"])]
    if rnd.random() < 0.3:
        args.append("--json")
    if rnd.random() < 0.2:
        args += ["--pasid", str(rnd.randint(0, 3))]
    rc, out, err = run(uiommu, *args)
    good = rc in (0, 1, 2) and "Sanitizer" not in err and "runtime error" not in err
    if good and rc == 2:
        good = not out and err.count("\n") == 1 and err.startswith("uiommu walk: ")
    elif good and rc == 1 and not out:
        good = err.count("\n") == 1 and err.startswith("uiommu walk: ")
    if good:
        os.unlink(path)
    else:
        bad.append(f"exit {rc}: uiommu {' '.join(args)}\nstderr: {err[:600]}")
    if (i + 1) % GROUP == 0 or i + 1 == RUNS:
        first = i - (i % GROUP)
        t.ok(not bad, f"mutations {first}-{i}: exit 0 or 1, one message on failure",
             "\n".join(bad))
        bad = []
if not os.listdir(tmp):
    os.rmdir(tmp)
t.done()
