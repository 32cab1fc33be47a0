#!/usr/bin/env python3
"""Checks the compiled kernel objects (after `swift build -c release`):

1. nm: no weak (W/w) or unique/link-once (V/v) symbols in any kernel object,
   so the linker cannot merge code across instruction-set levels.
2. KernelsBaseline: no AVX at all (no ymm/zmm register, no VEX/EVEX
   instruction: nothing whose mnemonic starts with "v").
3. KernelsAVX2 / KernelsAVX512: in every micro-kernel and dot kernel, the
   innermost loop (the backward branch with the most FMAs) uses vfmadd on
   ymm / zmm registers, and has no call, no trap (ud2), and no stack access
   (no spill).
Prints a summary per target and exits non-zero on any failure.
Usage: python3 scripts/verify_kernels.py [.build/release]
"""
import glob
import os
import re
import subprocess
import sys

build = sys.argv[1] if len(sys.argv) > 1 else ".build/release"
ok = True


def objects(target):
    return sorted(glob.glob(os.path.join(build, f"{target}.build", "*.o")))


def fail(msg):
    global ok
    ok = False
    print("  FAIL:", msg)


def functions(obj):
    """{name: [(address, text)]} from objdump (Intel syntax)."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-M", "intel", obj],
                         capture_output=True, text=True, check=True).stdout
    funcs, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^([0-9a-f]+) <(.+)>:$", line)
        if m:
            cur = m.group(2)
            funcs[cur] = []
            continue
        m = re.match(r"^\s+([0-9a-f]+):\s+(.*)$", line)
        if m and cur:
            funcs[cur].append((int(m.group(1), 16), m.group(2).strip()))
    return funcs


def inner_loop(insns):
    """The instructions of the backward-branch loop with the most vfmadd."""
    best = []
    for i, (addr, text) in enumerate(insns):
        m = re.match(r"^j\w+\s+([0-9a-f]+)\b", text)
        if not m:
            continue
        target = int(m.group(1), 16)
        if target >= addr:
            continue
        body = [t for a, t in insns if target <= a <= addr]
        if sum("vfmadd" in t for t in body) > sum("vfmadd" in t for t in best):
            best = body
    return best


for target, reg in (("NNKernelsAVX512", "zmm"), ("NNKernelsAVX2", "ymm"), ("NNKernelsBaseline", None)):
    objs = objects(target)
    if not objs:
        fail(f"{target}: no objects under {build}")
        continue
    print(f"{target}: {len(objs)} objects")
    nm = subprocess.run(["nm"] + objs, capture_output=True, text=True, check=True).stdout
    weak = [l for l in nm.splitlines() if re.search(r" [WwVv] ", l)]
    if weak:
        fail(f"{len(weak)} weak/link-once symbols, e.g. {weak[0]}")
    else:
        print("  nm: no W/w/V/v symbols")
    allf = {}
    for o in objs:
        allf.update(functions(o))
    if reg is None:
        bad = [(f, t) for f, ins in allf.items() for _, t in ins
               if re.search(r"\b[yz]mm\d+", t) or re.match(r"^v\w+", t)]
        if bad:
            fail(f"{len(bad)} AVX instructions, e.g. {bad[0][1]} in {bad[0][0]}")
        else:
            n = sum(len(i) for i in allf.values())
            print(f"  no ymm/zmm register and no VEX/EVEX (v*) instruction in {n} instructions")
        continue
    kernels = {f: i for f, i in allf.items() if re.search(r"(microKernel[PS]\d+x\d+|dotKernel\d+x\d+)", f)}
    checked = 0
    fmas = {}
    for f, ins in kernels.items():
        loop = inner_loop(ins)
        name = re.search(r"(microKernel[PS]\d+x\d+|dotKernel\d+x\d+)", f).group(1)
        if not loop:
            fail(f"{name}: no FMA loop found")
            continue
        nf = sum(bool(re.match(rf"vfmadd\d+ps\s+{reg}", t)) for t in loop)
        if nf == 0:
            fail(f"{name}: inner loop has no vfmadd on {reg}")
        for t in loop:
            if t.startswith("call") or "ud2" in t:
                fail(f"{name}: '{t}' in the inner loop")
            if re.search(r"\[(rsp|rbp)", t):
                fail(f"{name}: stack access '{t}' in the inner loop (spill)")
        fmas[name] = (nf, len(loop))
        checked += 1
    print(f"  {checked} kernels: inner loops use vfmadd*ps {reg}, no call / ud2 / stack access")
    for name in ("microKernelP12x2", "microKernelP6x2", "microKernelS12x2", "microKernelS6x2",
                 "microKernelP1x8", "dotKernel1x8"):
        if name in fmas:
            print(f"    {name}: {fmas[name][0]} vfmadd in a {fmas[name][1]}-instruction loop")

print("OK" if ok else "FAILED")
sys.exit(0 if ok else 1)
