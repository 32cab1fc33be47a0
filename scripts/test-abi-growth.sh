#!/usr/bin/env bash
# nn.h's ABI policy, tested the way it will be exercised (make test runs it):
#
#   1. a copy of the checkout whose nn.h appends a field to every options
#      struct (and to nn_layer_statistics) — what a later minor version
#      does — is built into a test-only libnn.so; its nn_fit_options field
#      gets a default of 0.25, and that library refuses to train when the
#      value it reads is not 0.25, so reading past a caller's struct shows;
#   2. Tests/abi/abi_program.c built against TODAY's nn.h ("old program")
#      must run on that grown library and on today's, with the same bits;
#   3. the same program built against the grown header must run on the
#      grown library, and a non-default value of the new field must reach it.
#
# Usage: scripts/test-abi-growth.sh   (from anywhere; needs swift and cc)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
CC=${CC:-cc}
work=$(mktemp -d "${TMPDIR:-/tmp}/nn-abi.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The current tree (tracked and new files), so uncommitted work is tested.
mkdir "$work/grown"
(cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -P -t "$work/grown")

# 1. Grow the header and teach the test-only library the new fit field.
python3 - "$work/grown" <<'PY'
import re, sys
root = sys.argv[1]
def patch(path, anchor, replacement, count=1):
    text = open(path).read()
    if text.count(anchor) != count:
        sys.exit(f"test-abi-growth: anchor {anchor!r} found {text.count(anchor)} times in {path}, expected {count}")
    open(path, "w").write(text.replace(anchor, replacement))
header = f"{root}/include/nn.h"
structs = ["nn_dense_options", "nn_loss_options", "nn_optimizer_options", "nn_schedule_options",
           "nn_early_stopping_options", "nn_fit_options", "nn_gradient_check_options", "nn_layer_statistics"]
for name in structs:
    patch(header, "} %s;" % name,
          "    double appended_in_test;  /* added by scripts/test-abi-growth.sh */\n} %s;" % name)
swift = f"{root}/Sources/NNCAPI/Training.swift"
patch(swift, "    o.shuffle = 1\n", "    o.shuffle = 1\n    o.appended_in_test = 0.25\n")
patch(swift, "        let o = try readOptions(options, or: fitDefaults())\n",
      "        let o = try readOptions(options, or: fitDefaults())\n"
      "        guard o.appended_in_test == 0.25 else { throw APIError.invalid(\"appended_in_test is \\(o.appended_in_test)\") }\n")
PY
grep -c "appended_in_test" "$work/grown/include/nn.h" | grep -qx 8 || fail "the grown header does not have 8 appended fields"

echo "== building the test-only libnn with grown options structs"
start=$SECONDS
(cd "$work/grown" && env -u CC -u CXX -u CFLAGS -u CXXFLAGS -u LDFLAGS \
    swift build -c release -Xswiftc -static-stdlib --product nn --scratch-path "$work/grown/.build" >"$work/build.log" 2>&1) \
    || { tail -40 "$work/build.log"; fail "the grown library did not build"; }
echo "   built in $((SECONDS - start)) s"

# Today's library, as the checkout's build has it (make lib).
today="$root/.build/release/libnn.so"
[ -f "$today" ] || fail "$today is missing: run make lib first"
for side in today grown; do
    mkdir -p "$work/lib-$side"
done
cp "$today" "$work/lib-today/libnn.so.0"
cp "$work/grown/.build/release/libnn.so" "$work/lib-grown/libnn.so.0"
ln -s libnn.so.0 "$work/lib-today/libnn.so"
ln -s libnn.so.0 "$work/lib-grown/libnn.so"

flags=(-std=c11 -Wall -Wextra -Werror -pedantic "$root/Tests/abi/abi_program.c")
"$CC" "${flags[@]}" -I"$root/include" -L"$work/lib-today" -lnn -o "$work/old"
"$CC" "${flags[@]}" -DNN_ABI_SET_APPENDED -I"$work/grown/include" -L"$work/lib-grown" -lnn -o "$work/new"

run() {  # run NAME PROGRAM LIBDIR
    echo "== $1"
    LD_LIBRARY_PATH="$3" "$2" | tee "$work/$1.out" || fail "$1 exited non-zero"
    grep -q '^PASS' "$work/$1.out" || fail "$1 did not pass"
}
run old-program-on-today-library "$work/old" "$work/lib-today"
run old-program-on-grown-library "$work/old" "$work/lib-grown"
run new-program-on-grown-library "$work/new" "$work/lib-grown"

grep -q "sizeof nn_fit_options 120" "$work/old-program-on-grown-library.out" || fail "the old program's struct is not the old size"
grep -q "sizeof nn_fit_options 128" "$work/new-program-on-grown-library.out" || fail "the new program's struct did not grow"
a=$(grep '^predictions' "$work/old-program-on-today-library.out")
b=$(grep '^predictions' "$work/old-program-on-grown-library.out")
c=$(grep '^predictions' "$work/new-program-on-grown-library.out")
[ "$a" = "$b" ] && [ "$b" = "$c" ] || fail "results differ: '$a' / '$b' / '$c'"
echo "PASS: a program built against today's nn.h runs on a libnn whose 8 structs grew, gets the defaults, and computes the same bits ($b)"
