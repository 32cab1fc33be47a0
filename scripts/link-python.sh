#!/usr/bin/env bash
# Makes `import nn` work in $PYTHON from any directory, with no environment
# variable: copies libnn.so next to the package and puts bindings/python on
# the interpreter's path with a .pth file (what an editable install does).
set -euo pipefail
PYTHON=${PYTHON:-python3}
root=$(cd "$(dirname "$0")/.." && pwd)
cp -f "$root/.build/release/libnn.so" "$root/bindings/python/nn/libnn.so"
site=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if ! echo "$root/bindings/python" > "$site/libnn-dev.pth" 2>/dev/null; then
    site=$("$PYTHON" -m site --user-site)
    mkdir -p "$site"
    echo "$root/bindings/python" > "$site/libnn-dev.pth"
fi
"$PYTHON" -c 'import nn, sys; sys.stdout.write("nn %s from %s\n" % (nn.__version__, nn.__file__))'
