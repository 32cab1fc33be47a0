#!/usr/bin/env bash
# Makes `import nn` in $PYTHON (default python3) be this checkout's package,
# from any directory, with no environment variable: copies libnn.so next to
# the package and puts bindings/python on the interpreter's path with a .pth
# file (what an editable install does). `make python` runs it.
#
# The rule between this link and pip: the one set up last wins, and each
# says so.
#   - A pip-installed libnn-py (pip install ., a wheel, or an editable
#     pip install -e .) comes before this link on sys.path (site-packages
#     precedes .pth entries; an editable install's finder precedes both), so
#     after a pip install `import nn` is the installed package.
#   - This script removes an installed libnn-py (and the former `nn` 0.2.0
#     distribution of bindings/python) from $PYTHON with pip, saying so, as
#     `pip install -e` replaces an installed copy: `make python` and
#     `make test` then use the checkout, never a stale install.
#   - `pip uninstall libnn-py` leaves this link in place: the checkout is
#     `import nn` again.
# A package named nn from another project (PyPI's `nn` is one) is not ours
# to remove: the script stops and names it.
set -euo pipefail
PYTHON=${PYTHON:-python3}
root=$(cd "$(dirname "$0")/.." && pwd)

# Installed distributions of ours, and others that provide a top-level `nn`.
found=$("$PYTHON" - "$root" <<'EOF'
import os, re, sys
try:
    from importlib.metadata import distributions
except ImportError:                      # Python < 3.8
    sys.exit(0)
root = os.path.realpath(sys.argv[1])
seen = set()
for dist in distributions():
    name = dist.metadata["Name"] or ""
    key = re.sub(r"[-_.]+", "-", name).lower()
    if not key or key in seen:
        continue
    files = [str(f) for f in (dist.files or [])]
    provides_nn = any(f.replace("\\", "/").startswith("nn/") for f in files) or \
        "nn" in (dist.read_text("top_level.txt") or "").split()
    summary = dist.metadata["Summary"] or ""
    if key == "libnn-py" or (key == "nn" and "libnn" in summary):
        seen.add(key)
        print(f"ours {name} {dist.version}")
    elif provides_nn:
        seen.add(key)
        print(f"other {name} {dist.version}")
EOF
)
while read -r kind name version; do
    [ -n "${kind:-}" ] || continue
    if [ "$kind" = ours ]; then
        echo "make python: $name $version is pip-installed in $PYTHON and would shadow this checkout;" \
             "uninstalling it (to use an installed copy again: pip install . at the root of a checkout)"
        if ! "$PYTHON" -m pip uninstall -y "$name" >/dev/null; then
            echo "make python: could not uninstall $name from $PYTHON: run '$PYTHON -m pip uninstall $name'" \
                 "(as the user that installed it), or use another PYTHON / virtual environment" >&2
            exit 1
        fi
    else
        echo "make python: $PYTHON has $name $version installed, another project's package named nn," \
             "which shadows libnn's: remove it ('$PYTHON -m pip uninstall $name') or use another" \
             "PYTHON / virtual environment" >&2
        exit 1
    fi
done <<<"$found"

cp -f "$root/.build/release/libnn.so" "$root/bindings/python/nn/libnn.so"

# The optional compiled helper nn/_speedups.abi3.so (bindings/python/nn/
# _speedups.c: Sequential.predict's call into libnn without ctypes), for a
# CPython >= 3.11 with its headers; elsewhere the package uses ctypes, and
# this says so. A helper that does not compile where it should is an error.
speedups="$root/bindings/python/nn/_speedups.abi3.so"
rm -f "$speedups"
# (A free-threaded CPython has no stable ABI: no helper there either.)
probe=$("$PYTHON" -c 'import sys, sysconfig
print(int(sys.implementation.name == "cpython" and sys.version_info >= (3, 11)
          and not sysconfig.get_config_var("Py_GIL_DISABLED")))
print(sysconfig.get_paths()["include"])')
stable_abi=${probe%%$'\n'*}
include=${probe#*$'\n'}
if [ "$stable_abi" = 1 ] && [ -f "$include/Python.h" ]; then
    ${CC:-cc} -std=c11 -O2 -Wall -Wextra -shared -fPIC -fvisibility=hidden \
        -I"$include" -I"$root/include" "$root/bindings/python/nn/_speedups.c" -Wl,--no-as-needed -lc -o "$speedups.tmp"
    mv -f "$speedups.tmp" "$speedups"
else
    echo "make python: $PYTHON is not a CPython >= 3.11 with the stable ABI and Python.h (in $include):" \
         "no compiled helper; predict calls libnn through ctypes"
fi
site=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if ! echo "$root/bindings/python" > "$site/libnn-dev.pth" 2>/dev/null; then
    site=$("$PYTHON" -m site --user-site)
    mkdir -p "$site"
    echo "$root/bindings/python" > "$site/libnn-dev.pth"
fi

# From a neutral directory, `import nn` must now be this checkout's.
(cd / && env -u PYTHONPATH -u NN_LIBRARY "$PYTHON" - "$root/bindings/python/nn" <<'EOF'
import os, sys
want = os.path.realpath(sys.argv[1])
import nn
got = os.path.realpath(os.path.dirname(nn.__file__))
if got != want:
    sys.exit(f"make python: `import nn` gives {nn.__file__}, not this checkout's {want}: "
             "something earlier on sys.path provides nn (python -c 'import nn; print(nn.__file__)')")
from nn import models
helper = "compiled helper" if models._fast_predict is not None else "no compiled helper"
sys.stdout.write("nn %s from %s (libnn %s; %s)\n" % (nn.__version__, nn.__file__, nn.library_path, helper))
EOF
)
