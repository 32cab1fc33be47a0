#!/usr/bin/env python3
"""Generates Sources/NNKernels*/MicroKernels.swift: the register-blocked GEMM
micro-kernels of each instruction-set level. This script is their source:
edit it, not the generated files.

Every kernel computes an mr × (nv·W) tile of C, for mr = 1...MR and
nv = 1...NV, with one local SIMD variable per accumulator (written out, so the
compiler keeps each in its own register):

    for p in 0..<kc:  acc[i][v] += A[i, p] · B[p, v·W ..< v·W + W]

A is read as `a[p·aStep + i]` (rows contiguous: a packed strip or a
transposed A in place), B as `b[p·bStep + j]` (a packed strip or B in place).
The tile is stored with alpha and beta through `storeVector` (GemmDriver.swift),
which also handles a last vector narrower than W.

    python3 scripts/gen_microkernels.py           rewrites the three files
    python3 scripts/gen_microkernels.py --check   exits 1 (with a diff) if a
                                                  committed file differs from
                                                  the output (ctest kernels_generated)
"""
import difflib
import os
import sys

LEVELS = {
    # target: (vector type, lanes, MR, NV, use FMA, k steps per loop turn of the MR × NV tile)
    "NNKernelsAVX512": ("SIMD16<Float>", 16, 12, 2, True, 1),
    # AVX2: the full tile's loop unrolled 4 times (+0.5-1 % at n = 256 on Zen 2: fewer
    # loop-control instructions next to the 12 FMAs and 8 loads of a k step)
    "NNKernelsAVX2": ("SIMD8<Float>", 8, 6, 2, True, 4),
    "NNKernelsBaseline": ("SIMD4<Float>", 4, 6, 2, False, 1),
}


def kernel(mr, nv, fma, family, unroll=1, lanes=0):
    """family "P": A(i, p) = a[p·aStep + i] (packed strip, or transposed A in place);
    family "S": A(i, p) = a[i·aStep + p] (A in place, not transposed: aStep = lda).
    lanes > 0: the "Prefetched" variant, which takes `ahead` (bytes) and, at
    each k step, hints the row of B that many bytes on: one prefetch per 128
    bytes of the tile's width (the other line of each 128-byte pair comes
    with it on Zen 2's L2 prefetcher), with the same FMAs in the same order."""
    name = f"microKernel{family}{mr}x{nv}" + ("Prefetched" if lanes else "")
    out = []
    w = out.append
    layout = "a[p·aStep + i]" if family == "P" else "a[i·aStep + p]"
    w(f"/// {mr} rows × {nv} vectors; A(i, p) = {layout}, B(p, j) = b[p·bStep + j]"
      + ("; B's row `ahead` bytes on is prefetched at each step." if lanes else "."))
    w("@inline(never)")
    step = "" if (family == "S" and mr == 1) else " _ aStep: Int,"
    w(f"func {name}(_ kc: Int, _ a: UnsafePointer<Float>,{step}")
    w("    _ b: UnsafePointer<Float>, _ bStep: Int,")
    w("    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ ncols: Int,")
    w("    _ alpha: Float, _ beta: Float, _ scratch: UnsafeMutablePointer<Float>" + (", _ ahead: Int) {" if lanes else ") {"))
    for i in range(mr):
        w("    " + "; ".join(f"var c{i}_{v} = V()" for v in range(nv)))
    w("    var ap = a")
    w("    var bp = UnsafeRawPointer(b)")
    w("    let bStepBytes = bStep &* 4")
    w("    var p = 0")

    def k_step(indent):
        for off in range(0, nv * lanes * 4, 128) if lanes else ():
            w(f"{indent}prefetch(bp + (ahead &+ {off}))" if off else f"{indent}prefetch(bp + ahead)")
        for v in range(nv):
            off = "" if v == 0 else f"fromByteOffset: {v} &* W &* 4, "
            w(f"{indent}let b{v} = bp.loadUnaligned({off}as: V.self)")
        for i in range(mr):
            if family == "P":
                w(f"{indent}let a{i} = V(repeating: ap[{i}])")
            else:
                w(f"{indent}let a{i} = V(repeating: ap[{i} &* aStep])" if i else f"{indent}let a0 = V(repeating: ap[0])")
            for v in range(nv):
                if fma:
                    w(f"{indent}c{i}_{v} = c{i}_{v}.addingProduct(a{i}, b{v})")
                else:
                    w(f"{indent}c{i}_{v} = c{i}_{v} + a{i} * b{v}")
        w(f"{indent}ap += " + ("aStep" if family == "P" else "1"))
        w(f"{indent}bp += bStepBytes")

    if unroll > 1:
        # the same k steps in the same order, `unroll` per loop turn
        w(f"    while p &+ {unroll} <= kc {{")
        for _ in range(unroll):
            w("        do {")
            k_step("            ")
            w("        }")
        w(f"        p &+= {unroll}")
        w("    }")
    w("    while p < kc {")
    k_step("        ")
    w("        p &+= 1")
    w("    }")
    # the tile: whole vectors straight into C; a tile narrower than nv·W
    # goes through the scratch tile and storeEdge
    def cptr(i, v):
        if i == 0:
            return "c" if v == 0 else f"c + {v} &* W"
        return f"c + {i} &* ldc" if v == 0 else f"c + ({i} &* ldc &+ {v} &* W)"
    w(f"    if ncols >= {nv} &* W {{")
    w("        let va = V(repeating: alpha)")
    w("        if beta == 0 {")
    for i in range(mr):
        for v in range(nv):
            w(f"            storeV({cptr(i, v)}, c{i}_{v} * va)")
    w("        } else if beta == 1 {")
    for i in range(mr):
        for v in range(nv):
            if fma:
                w(f"            storeV({cptr(i, v)}, loadV({cptr(i, v)}).addingProduct(c{i}_{v}, va))")
            else:
                w(f"            storeV({cptr(i, v)}, loadV({cptr(i, v)}) + c{i}_{v} * va)")
    w("        } else {")
    w("            let vb = V(repeating: beta)")
    for i in range(mr):
        for v in range(nv):
            if fma:
                w(f"            storeV({cptr(i, v)}, (loadV({cptr(i, v)}) * vb).addingProduct(c{i}_{v}, va))")
            else:
                w(f"            storeV({cptr(i, v)}, loadV({cptr(i, v)}) * vb + c{i}_{v} * va)")
    w("        }")
    w("    } else {")
    for i in range(mr):
        for v in range(nv):
            off = i * nv + v
            w(f"        storeV(scratch + {off} &* W, c{i}_{v})" if off else f"        storeV(scratch, c{i}_{v})")
    w(f"        storeEdge(scratch, {nv} &* W, c, ldc, {mr}, ncols, alpha, beta)")
    w("    }")
    w("}")
    return "\n".join(out)


def dot_params(mr, nb, declare):
    """The dot kernel's pointer and stride parameters, without the strides a
    tile does not use (lda for one row of A, ldb for one row of B, ldc for
    one row of C)."""
    ps = [("a", "UnsafePointer<Float>")]
    if mr > 1:
        ps.append(("lda", "Int"))
    ps.append(("b", "UnsafePointer<Float>"))
    if nb > 1:
        ps.append(("ldb", "Int"))
    ps.append(("c", "UnsafeMutablePointer<Float>"))
    if mr > 1:
        ps.append(("ldc", "Int"))
    if declare:
        return ", ".join(f"_ {n}: {t}" for n, t in ps)
    return ", ".join(n for n, _ in ps)


def dot_kernel(mr, nb, fma, lanes):
    """Family "D" (B transposed, few rows of A): C[i, j] = Σ_p A[i, p]·B[j, p] with
    A rows (a + i·lda) and B rows (b + j·ldb) contiguous in p; the k loop is
    vectorized (one accumulator per (i, j) pair), reduced at the end."""
    name = f"dotKernel{mr}x{nb}"
    out = []
    w = out.append
    w(f"/// Dot products of {mr} rows of A with {nb} rows of B (k contiguous in both).")
    w("@inline(never)")
    w(f"func {name}(_ k: Int, {dot_params(mr, nb, True)}, _ alpha: Float, _ beta: Float) {{")
    for i in range(mr):
        w("    " + "; ".join(f"var s{i}_{j} = V()" for j in range(nb)))
    for i in range(mr):
        w(f"    let ar{i} = UnsafeRawPointer(a + {i} &* lda)" if i else "    let ar0 = UnsafeRawPointer(a)")
    for j in range(nb):
        w(f"    let br{j} = UnsafeRawPointer(b + {j} &* ldb)" if j else "    let br0 = UnsafeRawPointer(b)")
    w("    var off = 0")
    w("    let end = (k / W) &* W &* 4")
    w("    while off < end {")
    for i in range(mr):
        w(f"        let a{i} = ar{i}.loadUnaligned(fromByteOffset: off, as: V.self)")
    for j in range(nb):
        w(f"        let b{j} = br{j}.loadUnaligned(fromByteOffset: off, as: V.self)")
        for i in range(mr):
            if fma:
                w(f"        s{i}_{j} = s{i}_{j}.addingProduct(a{i}, b{j})")
            else:
                w(f"        s{i}_{j} = s{i}_{j} + a{i} * b{j}")
    w("        off &+= W &* 4")
    w("    }")
    for i in range(mr):
        for j in range(nb):
            w(f"    var t{i}_{j} = horizontalSum(s{i}_{j})")
    w("    var p = k / W &* W")
    w("    while p < k {")
    for i in range(mr):
        w(f"        let x{i} = a[{i} &* lda &+ p]" if i else "        let x0 = a[p]")
    for j in range(nb):
        w(f"        let y{j} = b[{j} &* ldb &+ p]" if j else "        let y0 = b[p]")
        for i in range(mr):
            w(f"        t{i}_{j} += x{i} * y{j}")
    w("        p &+= 1")
    w("    }")
    for i in range(mr):
        for j in range(nb):
            dst = (f"c + {j}" if j else "c") if i == 0 else f"c + ({i} &* ldc &+ {j})"
            w(f"    storeScalar({dst}, t{i}_{j}, alpha, beta)")
    w("}")
    return "\n".join(out)


def dispatcher(family, mr_max, nv_list):
    lines = []
    layout = "packed strip / transposed A in place" if family == "P" else "A in place, rows aStep apart"
    lines.append(f"/// Runs the family-{family} micro-kernel ({layout}) for `mr` rows and `nv` vectors.")
    lines.append("@inline(__always)")
    lines.append(f"func microKernel{family}(_ mr: Int, _ nv: Int, _ kc: Int,")
    lines.append("    _ a: UnsafePointer<Float>, _ aStep: Int, _ b: UnsafePointer<Float>, _ bStep: Int,")
    lines.append("    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ ncols: Int, _ alpha: Float, _ beta: Float,")
    lines.append("    _ scratch: UnsafeMutablePointer<Float>) {")
    lines.append("    switch (nv, mr) {")
    for nv, mrs in nv_list:
        for mr in mrs:
            step = "" if (family == "S" and mr == 1) else " aStep,"
            lines.append(f"    case ({nv}, {mr}): microKernel{family}{mr}x{nv}(kc, a,{step} b, bStep, c, ldc, ncols, alpha, beta, scratch)")
    lines.append(f"    default: fatalError(\"microKernel{family}: no \\(mr)×\\(nv) kernel\")")
    lines.append("    }")
    lines.append("}")
    lines.append("")
    return lines


def generate(target, vtype, lanes, mr_max, nv_max, fma, unroll):
    lines = [
        "// GENERATED by scripts/gen_microkernels.py — do not edit by hand.",
        f"// {target}: V = {vtype}, MR = {mr_max}, NV = {nv_max}, "
        + ("FMA (addingProduct)" if fma else "no FMA (c + a * b)"),
        "",
        "/// The SIMD type of one accumulator register, and its lane count.",
        f"typealias V = {vtype}",
        f"@inline(__always) var W: Int {{ {lanes} }}",
        "/// Micro-tile: MR rows × NR = NV·W columns of C.",
        f"@inline(__always) var MR: Int {{ {mr_max} }}",
        f"@inline(__always) var NV: Int {{ {nv_max} }}",
        f"@inline(__always) var NR: Int {{ {nv_max * lanes} }}",
        "",
    ]
    # regular tiles: every mr ≤ MR, nv ≤ NV, both A layouts
    tiles = [(nv, list(range(mr_max, 0, -1))) for nv in range(nv_max, 0, -1)]
    # wide tiles for 1–3 rows (B in place): enough accumulators to hide the FMA latency
    wide = [(8, [1]), (4, [2]), (3, [3])]
    for family in ("P", "S"):
        for nv, mrs in tiles + (wide if family == "P" else []):
            for mr in mrs:
                full = mr == mr_max and nv == nv_max
                lines.append(kernel(mr, nv, fma, family, unroll if full else 1))
                lines.append("")
        lines += dispatcher(family, mr_max, tiles + (wide if family == "P" else []))
    # the one-row tile that reads B ahead (gemmFewRows, where the level's
    # Config sets oneRowPrefetchRows)
    lines.append(kernel(1, 8, fma, "P", 1, lanes))
    lines.append("")
    # dot-product tiles for B transposed and 1–3 rows of A
    dots = [(1, 8), (1, 1), (2, 4), (2, 1), (3, 4), (3, 1)]
    for mr, nb in dots:
        lines.append(dot_kernel(mr, nb, fma, lanes))
        lines.append("")
    lines.append("/// Runs the dot-product tile for `mr` rows of A (1...3) and `nb` rows of B (1, or 8/4/4).")
    lines.append("@inline(__always)")
    lines.append("func dotKernel(_ mr: Int, _ nb: Int, _ k: Int, _ a: UnsafePointer<Float>, _ lda: Int,")
    lines.append("    _ b: UnsafePointer<Float>, _ ldb: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,")
    lines.append("    _ alpha: Float, _ beta: Float) {")
    lines.append("    switch (mr, nb) {")
    for mr, nb in dots:
        lines.append(f"    case ({mr}, {nb}): dotKernel{mr}x{nb}(k, {dot_params(mr, nb, False)}, alpha, beta)")
    lines.append('    default: fatalError("dotKernel: no \\(mr)×\\(nb) tile")')
    lines.append("    }")
    lines.append("}")
    lines.append("/// B rows handled at once by the dot-product tiles for 1, 2, 3 rows of A.")
    lines.append("@inline(__always) func dotRowsOfB(_ mr: Int) -> Int { mr == 1 ? 8 : 4 }")
    lines.append("")
    # horizontal sum
    lines.append("/// The sum of the lanes of v (pairwise halves, then the last four lanes).")
    lines.append("@inline(__always)")
    lines.append("func horizontalSum(_ v: V) -> Float {")
    expr = "v"
    width = lanes
    if width == 16:
        lines.append("    let h8 = v.lowHalf + v.highHalf")
        lines.append("    let h4 = h8.lowHalf + h8.highHalf")
    elif width == 8:
        lines.append("    let h4 = v.lowHalf + v.highHalf")
    else:
        lines.append("    let h4 = v")
    lines.append("    let h2 = h4.lowHalf + h4.highHalf")
    lines.append("    return h2[0] + h2[1]")
    lines.append("}")
    lines.append("")
    return "\n".join(lines)


def main(argv):
    check = argv[1:] == ["--check"]
    if argv[1:] and not check:
        sys.exit("usage: gen_microkernels.py [--check]")
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    stale = []
    for target, (vtype, lanes, mr, nv, fma, unroll) in LEVELS.items():
        path = os.path.join(root, "Sources", target, "MicroKernels.swift")
        text = generate(target, vtype, lanes, mr, nv, fma, unroll)
        name = os.path.relpath(path, root)
        if not check:
            with open(path, "w") as f:
                f.write(text)
            print("wrote", name)
            continue
        with open(path) as f:
            committed = f.read()
        if committed == text:
            print(f"{name}: the generator's output ({len(text.splitlines())} lines)")
        else:
            stale.append(name)
            diff = difflib.unified_diff(committed.splitlines(), text.splitlines(),
                                        f"{name} (committed)", f"{name} (generated)", lineterm="")
            print("\n".join(list(diff)[:40]))
    if stale:
        sys.exit("not the generator's output: " + ", ".join(stale)
                 + " (run python3 scripts/gen_microkernels.py and commit the result)")


if __name__ == "__main__":
    main(sys.argv)
