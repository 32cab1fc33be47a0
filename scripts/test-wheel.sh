#!/usr/bin/env bash
# The pip channel, tested as a user meets it: builds an sdist of this work
# tree, the wheel FROM that sdist (python -m build: a full SwiftPM release
# build in the unpacked sdist, no state shared with the checkout), checks
# both, installs the wheel into a fresh virtual environment (numpy comes from
# PyPI as its dependency) and, from a folder outside the checkout with
# PYTHONPATH unset, imports nn, trains XOR and compares the three versions
# (the distribution's, nn_version() and nn.h's NN_VERSION_STRING).
#
#   scripts/test-wheel.sh [SOURCE_DIR]     (default: this checkout)
#
# Needs: python3 with venv and pip, swift, cmake, a C compiler, and PyPI
# (build, scikit-build-core, ninja, numpy, auditwheel). Prints PASS/FAIL
# lines and a closing "N passed, N failed"; exits non-zero on any failure.
# Everything it makes lives in one temporary folder, removed on exit
# (NN_KEEP_TMP=1 keeps it).
set -uo pipefail

PYTHON=${PYTHON:-python3}
DIST=libnn-py                       # the distribution name (pyproject.toml)
root=$(cd "$(dirname "$0")/.." && pwd)
src=$(cd "${1:-$root}" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/libnn-wheel.XXXXXX")
cleanup() {
    if [ "${NN_KEEP_TMP:-0}" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# The build backend, pip and SwiftPM put their temporary files here too.
export TMPDIR=$tmp
unset PYTHONPATH PYTHONHOME PYTHONSTARTUP NN_LIBRARY PIP_USER VIRTUAL_ENV
export PIP_DISABLE_PIP_VERSION_CHECK=1

passed=0
failed=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
    exit $?
}
# A step whose failure makes the rest meaningless.
fatal() { fail "$*"; finish; }
show_log() { echo "---- last lines of $1"; tail -n "${2:-40}" "$1"; echo "----"; }

t0=$(date +%s)
elapsed() { echo "$(( $(date +%s) - t0 ))s"; }

# --------------------------------------------------------------------------
# Tools: `build` (the PyPA front end) in a venv of its own.
# --------------------------------------------------------------------------
"$PYTHON" -m venv "$tmp/tools" || fatal "python -m venv (tools)"
if ! "$tmp/tools/bin/python" -m pip install -q build >"$tmp/tools.log" 2>&1; then
    show_log "$tmp/tools.log"; fatal "pip install build (tools venv)"
fi
have_auditwheel=0
if "$tmp/tools/bin/python" -m pip install -q auditwheel >>"$tmp/tools.log" 2>&1; then
    have_auditwheel=1
fi

# --------------------------------------------------------------------------
# sdist, then the wheel built from it (python -m build does both in turn).
# --------------------------------------------------------------------------
echo "building the sdist and the wheel from it (source: $src; the Swift release build takes minutes)"
tb=$(date +%s)
if ! "$tmp/tools/bin/python" -m build --outdir "$tmp/dist" "$src" >"$tmp/build.log" 2>&1; then
    show_log "$tmp/build.log" 60; fatal "python -m build (sdist, then wheel from the sdist)"
fi
build_s=$(( $(date +%s) - tb ))
sdists=("$tmp"/dist/*.tar.gz)
wheels=("$tmp"/dist/*.whl)
[ ${#sdists[@]} -eq 1 ] && [ -f "${sdists[0]}" ] || fatal "one sdist in $tmp/dist: ${sdists[*]}"
[ ${#wheels[@]} -eq 1 ] && [ -f "${wheels[0]}" ] || fatal "one wheel in $tmp/dist: ${wheels[*]}"
sdist=${sdists[0]}
wheel=${wheels[0]}
pass "built $(basename "$sdist") ($(du -k "$sdist" | cut -f1) KiB) and from it $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB) in ${build_s}s"

# --------------------------------------------------------------------------
# The sdist: what the build needs, the kernel links kept, no build output.
# --------------------------------------------------------------------------
if out=$("$tmp/tools/bin/python" - "$sdist" <<'EOF' 2>&1
import sys, tarfile, posixpath
tar = tarfile.open(sys.argv[1])
members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}
problems = []
for need in ["pyproject.toml", "CMakeLists.txt", "Package.swift", "include/nn.h",
             "cmake/PythonWheel.cmake", "KernelsShared/GemmDriver.swift",
             "Sources/NNCAPI/exports.map", "bindings/python/nn/__init__.py",
             "bindings/python/nn/_lib.py", "PKG-INFO"]:
    if need not in members:
        problems.append("missing " + need)
links = {n: m for n, m in members.items() if m.issym()}
kernel_links = [n for n in links if n.startswith("Sources/NNKernels")]
if not kernel_links:
    problems.append("no Sources/NNKernels*/ symbolic links")
for name, m in links.items():
    target = posixpath.normpath(posixpath.join(posixpath.dirname(name), m.linkname))
    if target not in members or not members[target].isfile():
        problems.append(f"link {name} -> {m.linkname}: target not in the sdist")
for name in members:
    top = name.split("/", 1)[0]
    if top in (".build", "build", "Tests") and not name.startswith("Tests/NNCoreTests/"):
        problems.append("build output or test data: " + name)
    if name.endswith((".so", ".whl", ".pyc")) or "/__pycache__/" in name:
        problems.append("build output: " + name)
size = sum(m.size for m in members.values())
print(f"{len(members)} members, {size // 1024} KiB unpacked, {len(kernel_links)} kernel links kept as links")
for p in problems:
    print("  " + p)
sys.exit(1 if problems else 0)
EOF
); then
    pass "sdist contents: $out"
else
    fail "sdist contents: $out"
fi

# --------------------------------------------------------------------------
# The wheel: a platform tag, nn/ with libnn.so (a regular stripped file),
# nothing of the C development install.
# --------------------------------------------------------------------------
if out=$("$tmp/tools/bin/python" - "$wheel" <<'EOF' 2>&1
import os, sys
from packaging.utils import parse_wheel_filename
name, version, build, tags = parse_wheel_filename(os.path.basename(sys.argv[1]))
platforms = sorted({t.platform for t in tags})
print(f"tags {'.'.join(sorted(str(t) for t in tags))}")
# A platform wheel, and one for every Python 3 (libnn.so links no Python).
sys.exit(1 if "any" in platforms or {(t.interpreter, t.abi) for t in tags} != {("py3", "none")} else 0)
EOF
); then
    pass "platform wheel for every Python 3: $out"
else
    fail "wheel tag is not py3-none-<platform>: $out"
fi

if out=$("$tmp/tools/bin/python" - "$wheel" "$tmp/so" <<'EOF' 2>&1
import stat, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
problems = []
names = z.namelist()
# Everything but the metadata; a <name>.data/ folder (headers, data) is flagged.
payload = [n for n in names if not n.split("/", 1)[0].endswith(".dist-info")]
for n in payload:
    if not n.startswith("nn/"):
        problems.append("outside the package: " + n)
    elif not (n.endswith(".py") or n in ("nn/libnn.so", "nn/_speedups.abi3.so", "nn/_speedups.c")):
        problems.append("unexpected file: " + n)
# The compiled helper (nn/_speedups.c) is built for a CPython >= 3.11.
import sysconfig
helper = (sys.implementation.name == "cpython" and sys.version_info >= (3, 11)
          and not sysconfig.get_config_var("Py_GIL_DISABLED"))
for must in ("nn/__init__.py", "nn/_lib.py", "nn/libnn.so") + (("nn/_speedups.abi3.so",) if helper else ()):
    if must not in names:
        problems.append("missing " + must)
if "nn/libnn.so" in names:
    info = z.getinfo("nn/libnn.so")
    mode = info.external_attr >> 16
    if mode and not stat.S_ISREG(mode):
        problems.append(f"nn/libnn.so is not a regular file (mode {oct(mode)})")
    data = z.read("nn/libnn.so")
    if data[:4] != b"\x7fELF":
        problems.append("nn/libnn.so is not an ELF file")
    open(sys.argv[2], "wb").write(data)
    print(f"{len(payload)} files, nn/libnn.so {info.file_size / 1e6:.1f} MB")
else:
    print(f"{len(payload)} files")
for p in problems:
    print("  " + p)
sys.exit(1 if problems else 0)
EOF
); then
    pass "wheel contents: $out"
else
    fail "wheel contents: $out"
fi

if [ -f "$tmp/so" ] && command -v readelf >/dev/null 2>&1; then
    if readelf -S -W "$tmp/so" | grep -q '\.symtab'; then
        fail "nn/libnn.so is not stripped (it has a .symtab)"
    else
        pass "nn/libnn.so is stripped; it needs: $(readelf -d "$tmp/so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
    fi
    if readelf -d "$tmp/so" | grep -q 'NEEDED.*libpython'; then
        fail "nn/libnn.so links libpython (the py3-none tag would be wrong)"
    fi
fi

if [ "$have_auditwheel" = 1 ]; then
    echo "---- auditwheel show $(basename "$wheel")"
    if "$tmp/tools/bin/auditwheel" show "$wheel" >"$tmp/auditwheel.log" 2>&1; then
        grep -v '^INFO:' "$tmp/auditwheel.log"
        echo "----"
        pass "auditwheel show analyzes the wheel (libnn.so and the compiled helper)"
    else
        grep -v '^INFO:' "$tmp/auditwheel.log" | tail -5
        echo "----"
        fail "auditwheel show could not analyze the wheel (what auditwheel repair needs)"
    fi
else
    echo "note: auditwheel could not be installed from PyPI; auditwheel show skipped"
fi

# --------------------------------------------------------------------------
# A fresh venv, the wheel installed by pip (numpy from PyPI as its dependency).
# --------------------------------------------------------------------------
"$PYTHON" -m venv "$tmp/venv" || fatal "python -m venv (test venv)"
venv_py=$tmp/venv/bin/python
if ! "$venv_py" -m pip install -q "$wheel" >"$tmp/install.log" 2>&1; then
    show_log "$tmp/install.log"; fatal "pip install $(basename "$wheel") into a fresh venv"
fi
pass "pip install $(basename "$wheel") into a fresh venv (with: $("$venv_py" -m pip list --format=freeze 2>/dev/null | grep -i -E '^(numpy|libnn-py)=' | tr '\n' ' '))"

# From outside the checkout, nothing of the checkout on the path.
mkdir -p "$tmp/elsewhere"
if out=$(cd "$tmp/elsewhere" && env -u PYTHONPATH -u NN_LIBRARY "$venv_py" - "$DIST" "$src/include/nn.h" "$root" "$src" <<'EOF' 2>&1
import glob, os, re, sys, sysconfig
dist, header, checkouts = sys.argv[1], sys.argv[2], [os.path.realpath(p) for p in sys.argv[3:]]
prefix = os.path.realpath(sys.prefix)
failed = []
def check(ok, what):
    print(("PASS: " if ok else "FAIL: ") + what)
    if not ok:
        failed.append(what)
def inside(path, folder):
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([path, folder]) == folder

site = sysconfig.get_paths()["purelib"]
leaks = [p for p in sys.path if p and any(inside(p, c) for c in checkouts)]
pths = [f for f in glob.glob(os.path.join(site, "*.pth"))
        if any(c in open(f).read() for c in checkouts)]
check(sys.prefix != sys.base_prefix and not leaks and not pths,
      f"the venv's sys.path holds nothing of the checkout (cwd {os.getcwd()})")

import numpy
import nn
from nn.layers import Dense
check(inside(nn.__file__, prefix), f"nn imported from the venv: {nn.__file__}")
check(inside(nn.library_path, prefix) and os.path.basename(nn.library_path) == "libnn.so",
      f"libnn.so loaded from the venv: {nn.library_path}")
check(inside(numpy.__file__, prefix), f"numpy {numpy.__version__} installed in the venv by pip")

from importlib.metadata import version
dist_version = version(dist)
with open(header) as f:
    header_version = re.search(r'^#define\s+NN_VERSION_STRING\s+"([^"]+)"', f.read(), re.M).group(1)
check(dist_version == nn.__version__ == header_version,
      f"versions agree: {dist} {dist_version}, nn.__version__ (nn_version()) {nn.__version__}, "
      f"nn.h NN_VERSION_STRING {header_version}")

from nn import models
if (sys.implementation.name == "cpython" and sys.version_info >= (3, 11)
        and not sysconfig.get_config_var("Py_GIL_DISABLED")):
    check(models._fast_predict is not None and inside(sys.modules["nn._speedups"].__file__, prefix),
          "predict's compiled helper (nn/_speedups.abi3.so) loaded from the venv")

x = numpy.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=numpy.float32)
y = numpy.array([0, 1, 1, 0], dtype=numpy.float32)
model = nn.Sequential([Dense(8, activation="tanh", input_dim=2),
                       Dense(1, activation="sigmoid")], seed=42)
model.compile(loss="binary_crossentropy", optimizer=nn.optimizers.Adam(learning_rate=0.05),
              metrics=["accuracy"])
history = model.fit(x, y, epochs=300, batch_size=4, verbose=0)
loss = history.history["loss"][-1]
predicted = (model.predict(x).ravel() > 0.5).astype(numpy.float32)
accuracy = float((predicted == y).mean())
check(loss < 0.05 and accuracy == 1.0,
      f"XOR trained from the installed wheel: loss {loss:.6f} (< 0.05), accuracy {accuracy:.2f} (= 1)")
sys.exit(1 if failed else 0)
EOF
); then
    echo "$out"
else
    echo "$out"
    grep -q '^FAIL: ' <<<"$out" || fail "python in the venv (no verdict printed)"
fi
passed=$((passed + $(grep -c '^PASS: ' <<<"$out")))
failed=$((failed + $(grep -c '^FAIL: ' <<<"$out")))

echo "test-wheel: $(elapsed) end to end (sdist + wheel build ${build_s}s)"
finish
