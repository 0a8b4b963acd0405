#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check that a program firing every trace point carries one USDT note per
event of lib/util/trace-events.h, with provider "uiommu" and as many probe
arguments as the event's prototype has. Reads `readelf -n`; prints TAP.

usage: check_usdt.py PROGRAM TRACE_EVENTS_H HAVE_SYS_SDT_H(0|1)
"""
import re
import subprocess
import sys

prog, events_h, have_sdt = sys.argv[1], sys.argv[2], sys.argv[3] == "1"

src = open(events_h).read()
src = re.sub(r"/\*.*?\*/", "", src, flags=re.S)
# TRACE_EVENT(name, (proto), (args), "fmt" ...)
events = {}
for m in re.finditer(r"TRACE_EVENT\(\s*(\w+)\s*,\s*\(([^)]*)\)\s*,\s*\(([^)]*)\)", src):
    events[m.group(1)] = len([a for a in m.group(3).split(",") if a.strip()])

print(f"1..{len(events) + 1}")
if not have_sdt:
    for i, name in enumerate(events, 1):
        print(f"ok {i} - {name} # SKIP built without <sys/sdt.h>")
    print(f"ok {len(events) + 1} - .note.stapsdt # SKIP built without <sys/sdt.h>")
    sys.exit(0)

out = subprocess.run(["readelf", "-n", "--wide", prog], capture_output=True, text=True).stdout
notes = {}  # (provider, name) -> list of argument counts
provider = name = None
for line in out.splitlines():
    line = line.strip()
    m = re.search(r"Provider:\s*(\S+)", line)  # on the note's own line with --wide
    if m:
        provider = m.group(1)
    elif line.startswith("Name:"):
        name = line.split(":", 1)[1].strip()
    elif line.startswith("Arguments:") and provider and name:
        args = line.split(":", 1)[1].split()
        notes.setdefault((provider, name), []).append(len(args))
        provider = name = None

n = 0
for ev, nargs in events.items():
    n += 1
    got = notes.get(("uiommu", ev))
    if not got:
        print(f"not ok {n} - uiommu:{ev} has no USDT note")
    elif any(c != nargs for c in got):
        print(f"not ok {n} - uiommu:{ev} notes carry {got} arguments, prototype has {nargs}")
    else:
        print(f"ok {n} - uiommu:{ev}: {len(got)} probe site(s), {nargs} arguments")
n += 1
stray = sorted(k for k in notes if k[0] == "uiommu" and k[1] not in events)
if ".note.stapsdt" in out and not stray:
    print(f"ok {n} - .note.stapsdt present, every uiommu probe is a listed event")
else:
    print(f"not ok {n} - .note.stapsdt missing or stray probes {stray}")
