# SPDX-License-Identifier: MIT
"""
The command line itself: help and version go to stdout with exit 0; usage
errors exit 2 with one message (and a pointer to --help) on stderr and
nothing on stdout.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Tap, run  # noqa: E402

uiommu = sys.argv[1]
DEMO = "scenarios/nested-4k.json"

# (arguments, expected first line of stderr)
USAGE_ERRORS = [
    ([], "usage: uiommu [-v] [--trace PATTERNS] [--version] [--help] COMMAND [ARGS]"),
    (["frob"], "uiommu: unknown command 'frob'"),
    (["--frob"], "uiommu: unknown option '--frob'"),
    (["help", "frob"], "uiommu help: unknown command 'frob'"),
    (["help", "walk", "trace"], "uiommu help: expected one command name, got 2 words"),
    (["walk"], "uiommu walk: expected a SCENARIO file or --image FILE[@BASE]"),
    (["walk", DEMO], "uiommu walk: missing --iova ADDR"),
    (["walk", DEMO, "--iova"], "uiommu walk: option '--iova' needs an argument"),
    (["walk", DEMO, "--iova", "0x12g"],
     "uiommu walk: --iova: expected a number such as 4096, 0x1000 or 4K, got '0x12g'"),
    (["walk", DEMO, "--iova", "0x1_0000_0000_0000_0000"],
     "uiommu walk: --iova: 0x1_0000_0000_0000_0000 does not fit in 64 bits"),
    (["walk", DEMO, "--iova", "0", "--access", "rq"],
     "uiommu walk: --access: expected r, w and/or x (plus u for an unprivileged access), "
     "got 'rq'"),
    (["walk", DEMO, "--iova", "0", "--bogus"], "uiommu walk: unknown option '--bogus'"),
    (["walk", DEMO, "--iova", "0", "--bogus=1"], "uiommu walk: unknown option '--bogus'"),
    # An argument given to an option that takes none: named as the user wrote it, whatever
    # the option's internal value (a letter, or a long-only one).
    (["--version=2"], "uiommu: option '--version' takes no argument, got '--version=2'"),
    (["walk", DEMO, "--iova", "0", "--json=yes"],
     "uiommu walk: option '--json' takes no argument, got '--json=yes'"),
    (["walk", DEMO, "--iova", "0", "--cache=1"],
     "uiommu walk: option '--cache' takes no argument, got '--cache=1'"),
    (["run", "--check=1"], "uiommu run: option '--check' takes no argument, got '--check=1'"),
    (["trace", DEMO, "t.csv", "--sweep=yes"],
     "uiommu trace: option '--sweep' takes no argument, got '--sweep=yes'"),
    (["trace-gen", "zipfian", "--help=1"],
     "uiommu trace-gen: option '--help' takes no argument, got '--help=1'"),
    (["exec", "--summary=x", "--frob", "--", "true"], "uiommu exec: unknown option '--frob'"),
    # A prefix of several long options (getopt_long takes a unique one).
    (["walk", DEMO, "--s2-i", "1"],
     "uiommu walk: option '--s2-i' is ambiguous: --s2-image, --s2-ias"),
    (["walk", DEMO, "-jz"], "uiommu walk: unknown option '-z'"),
    (["walk", DEMO, "-z"], "uiommu walk: unknown option '-z'"),
    (["walk", DEMO, "extra", "--iova", "0"], "uiommu walk: unexpected argument 'extra'"),
    (["walk", DEMO, "--iova", "0", "--pasid", "0x100000"],
     "uiommu walk: --pasid: expected a PASID from 0 to 1048575, got 0x100000"),
    (["walk", DEMO, "--iova", "0", "--format", "vmsa-s1"],
     "uiommu walk: --format is for --image mode, not with a scenario file"),
    (["walk", "--image", "x.bin", "--iova", "0"],
     "uiommu walk: missing --format FMT for --image"),
    (["walk", "--image", "x.bin", "--format", "vmsa-s3", "--root", "0", "--iova", "0"],
     "uiommu walk: --format: expected vmsa-s1, vmsa-s2, x86, vtd-ss or tce, got 'vmsa-s3'"),
    (["walk", "--image", "x.bin", "--format", "vmsa-s1", "--iova", "0"],
     "uiommu walk: missing --root ADDR"),
    (["walk", "--image", "x.bin", "--format", "vmsa-s1", "--root", "0", "--granule", "8K",
      "--iova", "0"], "uiommu walk: --granule: expected 4K, 16K or 64K, got 8K"),
    (["walk", "--image", "x.bin", "--format", "vmsa-s2", "--root", "0", "--ias", "40",
      "--sl0", "0", "--iova", "0"],
     "uiommu walk: --sl0: 0 is not valid for vmsa-s2 with granule 4K, ias 40, oas 48"),
    (["walk", "--image", "x.bin", "--format", "vmsa-s1", "--root", "0", "--sl0", "1",
      "--iova", "0"], "uiommu walk: --sl0 applies to vmsa-s2 only"),
    (["walk", "--image", "x.bin", "--format", "vmsa-s1", "--root", "0", "--s2-root", "0",
      "--iova", "0"], "uiommu walk: --s2-root needs --s2-format"),
    (["walk", "--image", "x.bin", "--format", "vmsa-s1", "--root", "0", "--s2-format",
      "vmsa-s1", "--s2-root", "0", "--iova", "0"],
     "uiommu walk: --s2-format: expected vmsa-s2 or vtd-ss, got 'vmsa-s1'"),
    (["walk", "--image", "x.bin", "--format", "vmsa-s2", "--root", "0", "--s2-format",
      "vmsa-s2", "--s2-root", "0", "--iova", "0"],
     "uiommu walk: --format: expected vmsa-s1, x86 or tce, got 'vmsa-s2'"),
    (["walk", "--image", "x.bin@0x1003", "--format", "vmsa-s1", "--root", "0", "--iova", "0"],
     "uiommu walk: --image: base 0x1003 is not 8-byte aligned"),
    (["walk", "--image", "x.bin", "--format", "vmsa-s1", "--root", "0", "--flags",
      "hw-ad,fast", "--iova", "0"],
     "uiommu walk: --flags: expected hw-ad, affd, no-1g, no-2m or no-blocks, got 'fast'"),
    (["walk", "--image", "x.bin", "--format", "vmsa-s1", "--root", "0", "--iova", "0",
      "--pasid", "1"], "uiommu walk: --pasid selects a stage 1 of a scenario file"),
]

# Every command of `uiommu --help`, and its man page doc/uiommu-CMD.1.
rc, top, _ = run(uiommu, "--help")
COMMANDS = re.findall(r"^  (\S+) ", top.split("Commands:\n", 1)[-1].split("\n\n", 1)[0], re.M)
COMMANDS = [c for c in COMMANDS if c != "help"]
OPT = re.compile(r"(?<![\w-])--[a-z0-9][a-z0-9-]*")
PAIR = re.compile(r'(?<![\w-])-([A-Za-z])[ ",]{1,6}--([a-z0-9][a-z0-9-]*)')


def man_sections(cmd, names):
    """The roff text of the SYNOPSIS and OPTIONS sections, with \\- read as -."""
    text, cur = [], None
    for line in open(f"doc/uiommu-{cmd}.1"):
        if line.startswith(".SH"):
            cur = line[3:].strip().strip('"')
        elif cur in names:
            text.append(line)
    return "".join(text).replace("\\-", "-")


t = Tap(len(USAGE_ERRORS) * 2 + 11 + 1 + 6 * len(COMMANDS))
t.ok(set(COMMANDS) >= {"run", "walk", "trace", "trace-gen", "exec"}, "the commands", COMMANDS)
for cmd in COMMANDS:
    rc, out, err = run(uiommu, cmd, "--help")
    rc2, out2, _ = run(uiommu, cmd, "-h")
    rc3, out3, _ = run(uiommu, "help", cmd)
    t.ok(rc == 0 and err == "" and out.startswith(f"usage: uiommu {cmd} ") and
         rc2 == 0 and out2 == out and rc3 == 0 and out3 == out,
         f"{cmd} --help, -h and help {cmd}: the same help on stdout, exit 0", out + err)
    t.ok(max(len(x) for x in out.splitlines()) <= 80, f"{cmd} --help fits in 80 columns",
         [x for x in out.splitlines() if len(x) > 80])
    # The help and the man page name the same options, with the same short forms.
    man = man_sections(cmd, {"SYNOPSIS", "OPTIONS"})
    t.ok(set(OPT.findall(out)) == set(OPT.findall(man)),
         f"{cmd}: --help and uiommu-{cmd}(1) name the same long options",
         f"help only: {sorted(set(OPT.findall(out)) - set(OPT.findall(man)))}\n"
         f"man only: {sorted(set(OPT.findall(man)) - set(OPT.findall(out)))}")
    t.ok(set(PAIR.findall(out)) == set(PAIR.findall(man)),
         f"{cmd}: --help and uiommu-{cmd}(1) give the same short options",
         f"{sorted(set(PAIR.findall(out)) ^ set(PAIR.findall(man)))}")
    # Every long option the help names is one the command knows (it may then
    # want an argument or a file, but is not unknown).
    unknown = []
    for o in sorted(set(OPT.findall(out))):
        rc, _, err = run(uiommu, cmd, o, "--no-such-option-here")
        if f"unknown option '{o}'" in err or "is ambiguous" in err:
            unknown.append(f"{o}: {err.strip()}")
    t.ok(not unknown, f"{cmd}: every option of its help is accepted", "\n".join(unknown))
    rc, out, err = run(uiommu, cmd, "--no-such-option-here")
    t.ok(rc == 2 and out == "" and err == f"uiommu {cmd}: unknown option '--no-such-option-here'\n"
         f"Try 'uiommu {cmd} --help' for more information.\n",
         f"{cmd}: an unknown option is a usage error (stderr, exit 2)", f"exit {rc}: {out!r} {err!r}")
for args, want in USAGE_ERRORS:
    rc, out, err = run(uiommu, *args)
    first = err.splitlines()[0] if err else ""
    t.ok(rc == 2 and out == "" and first == want, f"usage error: uiommu {' '.join(args)}",
         f"exit {rc}\nstdout: {out!r}\nstderr: {err!r}")
    t.ok(args == [] or "--help' for more information." in err,
         f"... points at --help: uiommu {' '.join(args)}", err)

# A format whose back end is not built yet is a failure (1), not a usage error;
# once it is built, the same command fails on the missing file instead.
rc, out, err = run(uiommu, "walk", "--image", "no-such-image.bin", "--format", "tce", "--root",
                   "0", "--iova", "0")
t.ok(out == "" and (rc, err) in (
    (1, "uiommu walk: --format tce: tce page tables are not supported by this build yet\n"),
    (2, "uiommu walk: --image: no-such-image.bin: No such file or directory\n")),
     "a format this build cannot walk: exit 1 and says so (built: the missing file, exit 2)",
     (rc, err))

rc, out, err = run(uiommu, "walk", DEMO, "--iova", "0x8040201000", "--trace", "nomatch*")
t.ok(rc == 2 and out == "" and err.startswith("uiommu walk: --trace: 'nomatch*' matches no trace "
                                              "event (events: "),
     "--trace with a pattern that matches nothing is a usage error", err)
rc, out, err = run(uiommu, "--trace", "xlate_*,-xlate_fault", "walk", DEMO, "--iova",
                   "0x8040201000", "--json")
t.ok(rc == 0 and out.lstrip().startswith("{") and "xlate_walk iova=0x8040201000" in err,
     "--trace xlate_* logs the walk to stderr, stdout stays JSON", err)

rc, out, err = run(uiommu, "--version")
t.ok(rc == 0 and out.startswith("uiommu ") and err == "", "--version", out)
rc, out, err = run(uiommu, "--help")
t.ok(rc == 0 and "  walk " in out and "help" in out and err == "", "--help lists walk", out)
rc, out, err = run(uiommu, "help", "walk")
t.ok(rc == 0 and out.startswith("usage: uiommu walk SCENARIO.json") and "--s2-format" in out,
     "help walk", out)
rc, out2, err = run(uiommu, "walk", "--help")
t.ok(rc == 0 and out2 == out, "walk --help is the same text", out2)
rc, out, err = run(uiommu, "help")
t.ok(rc == 0 and "Commands:" in out, "help alone", out)
rc, out2, err = run(uiommu, "help", "--help")
t.ok(rc == 0 and out2 == out and err == "",
     "help --help (where 'uiommu help' usage errors point) is the main help", out2 + err)
rc, out, err = run(uiommu, "-v", "walk", DEMO, "--iova", "0x8040201000")
t.ok(rc == 0 and "stage1: vmsa-s1 table" in out and "Nested walk, 19 reads:" in out,
     "-v before the command lists the tables, then walks", out[:400])
rc, out, err = run(uiommu, "walk", DEMO, "-i", "0x8040201000", "-a", "r", "-j", "-v")
t.ok(rc == 0 and out.lstrip().startswith("{") and "stage1: vmsa-s1 table" in err,
     "-v with --json keeps stdout JSON (the tables go to stderr)", err[:200])
t.done()
