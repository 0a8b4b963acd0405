# SPDX-License-Identifier: MIT
"""
uiommu trace-gen: usage errors (exit 2), the line format, determinism for a
seed, and the distributions: sequential exactly, uniform and Zipf by rank
frequencies against the formula (fixed seeds, so the outcome is the same on
every run; the tolerances are several standard deviations wide).
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Tap, run  # noqa: E402

uiommu = sys.argv[1]

ONE = ["--count", "1", "--pages", "1"]  # a valid one-access trace, to add one mistake to
MODE = "expected sequential, random or zipfian"
THETA = "--theta: expected a number above 0 and at most 10, got "
WRITE_RATIO = "--write-ratio: expected a fraction from 0 to 1, got "

# Arguments, and the first line of stderr after "uiommu trace-gen: ".
USAGE = [
    ([], MODE),
    (ONE, MODE),
    (["gaussian", *ONE], MODE + ", got 'gaussian'"),
    (["random", "extra", *ONE], "unexpected argument 'extra'"),
    (["random", "--pages", "1"], "missing --count N"),
    (["random", "--count", "1"], "missing --pages P"),
    (["random", "--count", "x", "--pages", "1"],
     "--count: expected a number such as 4096, 0x1000 or 4K, got 'x'"),
    (["random", "--count", "1", "--pages", "0"], "--pages: expected at least 1 page, got 0"),
    (["random", "--count", "0", "--pages", "1"],
     "--count: expected at least 1 transaction, got 0"),
    (["random", *ONE, "--page-size", "3000"],
     "--page-size: expected a power of two up to 4G such as 4K, got '3000'"),
    (["random", *ONE, "--theta", "0.5"], "--theta applies to zipfian only"),
] + [
    (["zipfian", *ONE, "--theta", v], f"{THETA}'{v}'") for v in ("0", "11", "-1", "nan")
] + [
    (["random", *ONE, "--write-ratio", v], f"{WRITE_RATIO}'{v}'") for v in ("1.5", "half")
] + [
    (["random", "--count", "1", "--pages", "0x10_0000_0000_0000", "--base", "0x10"],
     "--pages: 0x10_0000_0000_0000 pages of 4096 bytes from 0x10 run past the end of the 64-bit "
     "address space"),
    (["random", "--count", "1", "--pages", "2", "--base", "0xffff_ffff_ffff_f000"],
     "--pages: 2 pages of 4096 bytes from 0xfffffffffffff000 run past the end of the 64-bit "
     "address space"),
    (["random", *ONE, "--seed"], "option '--seed' needs an argument"),
]


def gen(*args):
    rc, out, err = run(uiommu, "trace-gen", *args)
    lines = out.splitlines()
    body = [ln.split(",") for ln in lines[1:]]
    return rc, lines[0] if lines else "", body, err


def chi2_critical(k, z=3.719):
    """Wilson-Hilferty: the chi-square quantile for k degrees of freedom, z = 3.719 (p 1e-4)."""
    return k * (1 - 2 / (9 * k) + z * math.sqrt(2 / (9 * k))) ** 3


def chi2(counts, probs, n):
    return sum((c - n * p) ** 2 / (n * p) for c, p in zip(counts, probs))


def zipf_probs(n, theta):
    w = [(k + 1) ** -theta for k in range(n)]
    s = sum(w)
    return [x / s for x in w]


t = Tap(len(USAGE) + 14)
for args, want in USAGE:
    rc, out, err = run(uiommu, "trace-gen", *args)
    first = err.splitlines()[0] if err else ""
    t.ok(rc == 2 and out == "" and first == "uiommu trace-gen: " + want,
         f"usage error: trace-gen {' '.join(args)}",
         f"exit {rc}\nstderr: {err!r}")

# Format and header.
rc, head, body, err = gen("sequential", "--count", "6", "--pages", "4", "--base", "0x1000_0000",
                          "--page-size", "64K")
t.ok(rc == 0 and head == "# uiommu trace-gen sequential --count 6 --pages 4 --base 0x10000000 "
     "--page-size 65536 --seed 1 --write-ratio 0", "a comment line repeats the parameters", head)
t.ok([ln for ln in body] == [[hex(0x10000000 + 0x10000 * (i % 4)), "65536", "r"] for i in range(6)],
     "sequential: pages 0..P-1 then again, one page each, reads", body)

# The header reproduces the trace.
rc, head, body, err = gen("zipfian", "--count", "500", "--pages", "1000", "--theta", "1.2",
                          "--seed", "99", "--write-ratio", "0.25", "-b", "4096")
rc2, head2, body2, err = gen(*head.split()[3:])
t.ok(rc == 0 and rc2 == 0 and body == body2 and head == head2,
     "running the header's arguments gives the same trace", head)

# Determinism.
a = gen("random", "--count", "2000", "--pages", "100000", "--seed", "5")[2]
b = gen("random", "--count", "2000", "--pages", "100000", "--seed", "5")[2]
c = gen("random", "--count", "2000", "--pages", "100000", "--seed", "6")[2]
t.ok(a == b and len(a) == 2000, "random: the same seed gives the same trace")
t.ok(a != c and sum(x != y for x, y in zip(a, c)) > 1900, "random: another seed, another trace")

# Uniform: every page in range and aligned; counts pass a chi-square test.
P, N = 64, 64000
rc, head, body, err = gen("random", "--count", str(N), "--pages", str(P), "--base", "0x4000_0000",
                          "--seed", "11")
pages = [(int(x[0], 16) - 0x40000000) for x in body]
t.ok(rc == 0 and len(pages) == N and all(p % 4096 == 0 and 0 <= p < P * 4096 for p in pages),
     "random: every IOVA is a page of the range")
counts = [0] * P
for p in pages:
    counts[p // 4096] += 1
x2 = chi2(counts, [1 / P] * P, N)
t.ok(x2 < chi2_critical(P - 1), f"random: uniform (chi-square {x2:.1f} < {chi2_critical(P-1):.1f})")

# Zipf against the formula, at several skews.
for n, theta, count, seed in [(100, 0.99, 200000, 42), (1000, 0.5, 200000, 1), (50, 2.0, 100000, 3),
                              (100, 1.0, 100000, 4)]:
    rc, head, body, err = gen("zipfian", "--count", str(count), "--pages", str(n), "--theta",
                              str(theta), "--seed", str(seed))
    counts = [0] * n
    for x in body:
        counts[int(x[0], 16) // 4096] += 1
    probs = zipf_probs(n, theta)
    # Merge the tail so that every bin expects at least 20 draws.
    bins_c, bins_p, acc_c, acc_p = [], [], 0, 0.0
    for cnt, pr in zip(counts, probs):
        acc_c += cnt
        acc_p += pr
        if acc_p * count >= 20:
            bins_c.append(acc_c)
            bins_p.append(acc_p)
            acc_c, acc_p = 0, 0.0
    if acc_p:
        bins_c[-1] += acc_c
        bins_p[-1] += acc_p
    x2 = chi2(bins_c, bins_p, count)
    # Each of the 5 hottest ranks within 4 standard deviations of its expected count.
    sds = max(abs(counts[k] - count * probs[k]) / math.sqrt(count * probs[k] * (1 - probs[k]))
              for k in range(5))
    t.ok(rc == 0 and sum(counts) == count and x2 < chi2_critical(len(bins_c) - 1) and sds < 4,
         f"zipfian n={n} theta={theta}: rank frequencies follow k^-theta (chi-square "
         f"{x2:.1f} < {chi2_critical(len(bins_c) - 1):.1f} over {len(bins_c)} bins; top-5 "
         f"ranks within {sds:.1f} < 4 standard deviations)",
         f"counts[:10] {counts[:10]}\nexpected {[round(p * count) for p in probs[:10]]}")

# A large n: the head of the distribution is still right.
n, count = 1 << 20, 100000
rc, head, body, err = gen("zipfian", "--count", str(count), "--pages", str(n), "--seed", "8")
c0 = sum(1 for x in body if int(x[0], 16) == 0)
c1 = sum(1 for x in body if int(x[0], 16) == 4096)
p0, p1 = zipf_probs(n, 0.99)[:2]
t.ok(rc == 0 and abs(c0 / count / p0 - 1) < 0.04 and abs(c1 / count / p1 - 1) < 0.06,
     f"zipfian over 1M pages: ranks 1 and 2 ({c0}, {c1}; expected {p0 * count:.0f}, "
     f"{p1 * count:.0f})")

# Write ratio: the fraction of writes, and the pages do not depend on it.
rc, head, body, err = gen("random", "--count", "20000", "--pages", "512", "--seed", "5",
                          "--write-ratio", "0.3")
w = sum(1 for x in body if x[2] == "w") / 20000
rc0, head0, body0, err = gen("random", "--count", "20000", "--pages", "512", "--seed", "5")
t.ok(abs(w - 0.3) < 0.015 and all(x[2] == "r" for x in body0),
     f"--write-ratio 0.3: {w:.3f} of the lines are writes; 0 gives none")
t.ok([x[0] for x in body] == [x[0] for x in body0], "the pages do not depend on the write ratio")
t.done()
