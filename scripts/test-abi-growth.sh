#!/usr/bin/env bash
# nn.h's ABI policy, tested the way it will be exercised (make test runs it):
#
#   1. a copy of the checkout whose nn.h appends a field to every options
#      struct (and to nn_layer_statistics) — what a later minor version
#      does — is built into a test-only libnn.so ("0.x.y+grown"); in it,
#      every appended field defaults to 0.25, and every call that reads an
#      options struct refuses a value other than 0.25, so a read past a
#      caller's struct (into poison) shows;
#   2. Tests/abi/abi_program.c built against TODAY's nn.h, and against the
#      published nn.h 0.3.0 (Tests/abi/nn-0.3.0/nn.h, which has no init
#      macros: the binary calls the plain init functions), must run on that
#      grown library and on today's, with the same result bits;
#   3. the program built against the grown header must run on the grown
#      library, and a non-default value of a new field must reach it.
#
# Usage: scripts/test-abi-growth.sh   (from anywhere; needs swift and cc)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
CC=${CC:-cc}
work=$(mktemp -d "${TMPDIR:-/tmp}/nn-abi.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The current tree (tracked and new files), so uncommitted work is tested.
"$root/scripts/copy-worktree.sh" "$root" "$work/grown"

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
text = open(header).read()
text, n = re.subn(r'(#define NN_VERSION_STRING "[0-9.]+)"', r'\1+grown"', text)
if n != 1:
    sys.exit("test-abi-growth: NN_VERSION_STRING not found once in nn.h")
open(header, "w").write(text)
# Every appended field (a double at the end: offset stride - 8) defaults to
# 0.25, and reading an options struct refuses any other value there.
options = f"{root}/Sources/NNCAPI/Options.swift"
patch(options, "    var value = defaults\n", "    var value = defaults\n    appendedDefault(&value)\n", count=2)
patch(options, "    value.struct_size = MemoryLayout<T>.stride\n    return value\n",
      "    value.struct_size = MemoryLayout<T>.stride\n    try checkAppended(value)\n    return value\n")
with open(options, "a") as f:
    f.write("""
func appendedDefault<T>(_ value: inout T) {
    withUnsafeMutableBytes(of: &value) { $0.storeBytes(of: 0.25, toByteOffset: MemoryLayout<T>.stride - 8, as: Double.self) }
}
func checkAppended<T: GrowableOptions>(_ value: T) throws {
    let x = withUnsafeBytes(of: value) { $0.load(fromByteOffset: MemoryLayout<T>.stride - 8, as: Double.self) }
    guard x == 0.25 else { throw APIError.invalid("appended_in_test of \\(T.cName) is \\(x)") }
}
""")
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
"$CC" "${flags[@]}" -I"$root/Tests/abi/nn-0.3.0" -L"$work/lib-today" -lnn -o "$work/v030"
"$CC" "${flags[@]}" -DNN_ABI_SET_APPENDED -I"$work/grown/include" -L"$work/lib-grown" -lnn -o "$work/new"

version=$(sed -n 's/^#define NN_VERSION_STRING "\(.*\)"$/\1/p' "$root/include/nn.h")
run() {  # run NAME PROGRAM LIBDIR EXPECTED-LIBRARY-VERSION
    echo "== $1"
    LD_LIBRARY_PATH="$3" "$2" | tee "$work/$1.out" || fail "$1 exited non-zero"
    grep -q '^PASS' "$work/$1.out" || fail "$1 did not pass"
    grep -q "library $4;" "$work/$1.out" || fail "$1 did not run on libnn $4"
}
run today-program-on-today-library "$work/old" "$work/lib-today" "$version"
run today-program-on-grown-library "$work/old" "$work/lib-grown" "$version+grown"
run v0.3.0-program-on-today-library "$work/v030" "$work/lib-today" "$version"
run v0.3.0-program-on-grown-library "$work/v030" "$work/lib-grown" "$version+grown"
run grown-program-on-grown-library "$work/new" "$work/lib-grown" "$version+grown"

grep -q "header 0.3.0, .*sizeof nn_fit_options 120" "$work/v0.3.0-program-on-grown-library.out" || fail "the 0.3.0 program's struct is not 0.3.0's"
# today's size as today's nn.h has it (0.3.0's 120 grew to 136 in 0.6.0)
size_of() { sed -n 's/.*sizeof nn_fit_options \([0-9]*\).*/\1/p' "$work/$1.out"; }
today_size=$(size_of today-program-on-today-library)
[ -n "$today_size" ] && (( today_size >= 120 )) || fail "today's program did not report its nn_fit_options size"
[ "$(size_of today-program-on-grown-library)" = "$today_size" ] || fail "today's program's struct is not today's size"
(( $(size_of grown-program-on-grown-library) == today_size + 8 )) || fail "the grown program's struct did not grow by its appended field"
first=$(grep '^predictions' "$work/today-program-on-today-library.out")
for name in today-program-on-grown-library v0.3.0-program-on-today-library v0.3.0-program-on-grown-library \
            grown-program-on-grown-library; do
    [ "$(grep '^predictions' "$work/$name.out")" = "$first" ] || fail "$name computed other bits than today's program on today's library"
done
echo "PASS: programs built against nn.h 0.3.0 and against today's nn.h run on a libnn whose 8 structs grew, get the defaults, and compute the same bits ($first)"
