#!/usr/bin/env bash
# Installs what `make demo` and `make test` need and is missing:
#   system: cmake, pkg-config, cmocka, dpkg-dev (dpkg-shlibdeps, for the
#           .deb test), qemu-user, Open MPI (openmpi-bin, libopenmpi-dev:
#           the data-parallel tests run 2 processes) (apt-get, as root)
#   Python: numpy, pytest, scikit-learn, pycparser, safetensors (pip; the
#           saving tests read libnn's files with safetensors), matplotlib
#           (history.plot and the debugging example draw with it), onnx and
#           onnxruntime (the ONNX export is built with onnx and checked by
#           running it in onnxruntime), mpi4py (nn.distributed), pandas
#           (DataFrames in fit/predict and nn.sklearn), tensorboardX (the
#           TensorBoard callback's writer) and tensorboard (its test reads
#           the events back with TensorBoard's own reader)
# Already-present tools are left alone, so a second run does nothing.
set -euo pipefail
PYTHON=${PYTHON:-python3}

missing_apt=()
command -v cmake >/dev/null 2>&1 || missing_apt+=(cmake)
command -v pkg-config >/dev/null 2>&1 || missing_apt+=(pkg-config)
pkg-config --exists cmocka 2>/dev/null || missing_apt+=(libcmocka-dev)
# The .deb test: dpkg-shlibdeps computes libnn0's dependencies.
if command -v dpkg >/dev/null 2>&1; then command -v dpkg-shlibdeps >/dev/null 2>&1 || missing_apt+=(dpkg-dev); fi
if [ "$(uname -m)" = x86_64 ]; then command -v qemu-x86_64 >/dev/null 2>&1 || missing_apt+=(qemu-user); fi
command -v mpicc >/dev/null 2>&1 && command -v mpirun >/dev/null 2>&1 || missing_apt+=(openmpi-bin libopenmpi-dev)
# make bench also compares with FANN and PyTorch (below).
if [ "${NN_BENCH_DEPS:-0}" = 1 ]; then [ -f /usr/include/fann.h ] || missing_apt+=(libfann-dev); fi
if [ ${#missing_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing system packages: ${missing_apt[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${missing_apt[@]}" >/dev/null
    else
        echo "missing system packages: ${missing_apt[*]} (install them, e.g. with apt-get as root)" >&2
        exit 1
    fi
fi

missing_pip=()
for spec in numpy:numpy pytest:pytest sklearn:scikit-learn pycparser:pycparser safetensors:safetensors matplotlib:matplotlib \
            onnx:onnx onnxruntime:onnxruntime mpi4py:mpi4py pandas:pandas tensorboardX:tensorboardX \
            tensorboard:tensorboard; do
    module=${spec%%:*}; package=${spec#*:}
    "$PYTHON" -c "import $module" >/dev/null 2>&1 || missing_pip+=("$package")
done
if [ ${#missing_pip[@]} -gt 0 ]; then
    echo "installing Python packages: ${missing_pip[*]}"
    "$PYTHON" -m pip install -q --disable-pip-version-check "${missing_pip[@]}"
fi
# PyTorch (CPU build, ~200 MB) for make bench's comparisons: best effort,
# the benchmarks skip its lines when it is not there.
if [ "${NN_BENCH_DEPS:-0}" = 1 ] && ! "$PYTHON" -c "import torch" >/dev/null 2>&1; then
    echo "installing PyTorch (CPU build) for the benchmarks' comparisons"
    "$PYTHON" -m pip install -q --disable-pip-version-check torch --index-url https://download.pytorch.org/whl/cpu \
        || echo "could not install PyTorch: make bench skips its comparisons with it"
fi
command -v swift >/dev/null 2>&1 || { echo "swift is not on PATH: install the Swift 6.3 toolchain" >&2; exit 1; }
