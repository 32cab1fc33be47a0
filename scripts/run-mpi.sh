#!/usr/bin/env bash
# Runs a program on N local MPI processes (ctest's data-parallel tests):
#   scripts/run-mpi.sh N program [args...]
#   scripts/run-mpi.sh N --digits program [args...]
# --digits first writes scikit-learn's 8x8 digits (shuffled with seed 0) as
# float32 rows [64 pixels / 16, class] to a temporary file and passes its
# path as the program's first argument (bindings/c/examples/mpi_train.c).
# Open MPI is allowed to run as root (CI does) and to oversubscribe (more
# processes than cores is fine on a small machine), by its environment
# variables (other MPIs ignore them).
set -euo pipefail
n=$1; shift
digits=0
if [ "${1:-}" = --digits ]; then digits=1; shift; fi
mpirun=${MPIEXEC:-mpirun}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
program=$1; shift
if [ "$digits" = 1 ]; then
    if ! "${PYTHON:-python3}" -c "import numpy, sklearn" >/dev/null 2>&1; then
        echo "SKIPPED: --digits needs numpy and scikit-learn in ${PYTHON:-python3}"
        exit 77
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    "${PYTHON:-python3}" - "$tmp/digits.f32" <<'PY'
import sys
import numpy as np
from sklearn.datasets import load_digits
d = load_digits()
rows = np.hstack([d.data / 16.0, d.target[:, None]]).astype(np.float32)
rows[np.random.default_rng(0).permutation(len(rows))].tofile(sys.argv[1])
PY
    set -- "$tmp/digits.f32" "$@"
fi
"$mpirun" -n "$n" "$program" "$@"
