#!/usr/bin/env bash
# Consumes libnn the way a Swift user does: another SwiftPM package that
# depends on it BY VERSION, built from outside the checkout.
#
#   scripts/test-swiftpm-consumer.sh          (make test runs it)
#
# 1. Reads the version from include/nn.h (NN_VERSION_STRING).
# 2. Copies the checkout's working tree (tracked files plus untracked files
#    that git does not ignore: `git ls-files -co --exclude-standard`, so
#    uncommitted work is tested too) into a temporary git repository named
#    libnn, commits it and tags the commit with that version (e.g. 0.6.0).
# 3. Writes a consumer package outside the checkout from README.md's own code
#    blocks, so the README and this test are the same package and program:
#    the ```swift block that follows the line "<!-- example: swiftpm/Package.swift -->"
#    is its Package.swift, the one after "<!-- example: swiftpm/main.swift -->"
#    its main.swift (the markers of cmake/ReadmeExample.cmake). The
#    manifest's `.package(url: "...", from: "X")` gets the temporary
#    repository's file:// URL; X must be nn.h's version (the README states the
#    current version). main.swift goes to Sources/<executableTarget name>/.
# 4. Builds the consumer, runs it and checks what it prints: the last training
#    loss (first number) below 0.01, and the predictions (the numbers in
#    brackets) on the right side of 0.5 for XOR (0 1 1 0). Checks that
#    Package.resolved and `swift package show-dependencies` resolved libnn at
#    nn.h's version.
# 5. Checks that `from: "<major+1>.0.0"` does not resolve (so resolution is
#    really by version, not by path or branch): resolution only, no build.
#
# Environment: NN_CONSUMER_CONFIG (debug or release; default debug: measured
# faster end to end on a 2-core machine, and the kernel targets are compiled
# with -Ounchecked from their own flags in both), NN_KEEP_TMP=1 (keep the
# temporary directory and print its path).
#
# Needs swift (6.2 or later) and git; no network. Prints PASS lines, or a FAIL
# line and exits 1 at the first failure.
set -euo pipefail

# Under a build backend (pip, CMake) CC/CFLAGS may name gcc: SwiftPM would then
# compile the C target NNCPUFeatures with gcc and clang's flags, and fail.
unset CC CXX CFLAGS CXXFLAGS CPPFLAGS LDFLAGS
# Run from a git hook, these would point every git below at the checkout.
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_COMMON_DIR

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
config=${NN_CONSUMER_CONFIG:-debug}
readme=$root/README.md
header=$root/include/nn.h

t0=$SECONDS
pass() { echo "PASS: swiftpm-consumer: $*"; }
fail() { echo "FAIL: swiftpm-consumer: $*"; exit 1; }
step() { echo "-- swiftpm-consumer: $* ($(( SECONDS - t0 )) s)"; }

[[ $config == debug || $config == release ]] || fail "NN_CONSUMER_CONFIG must be debug or release, got '$config'"
command -v swift >/dev/null || fail "no swift on PATH"
command -v git >/dev/null || fail "no git on PATH"

# --- The version, from nn.h --------------------------------------------------
version=$(sed -n 's/^#define[[:space:]]\{1,\}NN_VERSION_STRING[[:space:]]\{1,\}"\([^"]*\)".*/\1/p' "$header")
[[ $(grep -c '^#define[[:space:]]\{1,\}NN_VERSION_STRING' "$header") == 1 ]] ||
    fail "expected exactly one '#define NN_VERSION_STRING' in include/nn.h"
[[ $version =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] ||
    fail "NN_VERSION_STRING in include/nn.h is '$version', not MAJOR.MINOR.PATCH"
next_major="$(( BASH_REMATCH[1] + 1 )).0.0"
echo "-- swiftpm-consumer: libnn $version (include/nn.h), $config build"

# --- The README's package and program -----------------------------------------
# Prints the code of the ```swift block that follows the line
# "<!-- example: NAME -->" (blank lines between them allowed) up to its closing
# fence; fails unless the marker occurs exactly once and such a block follows.
extract() {
    awk -v marker="<!-- example: $1 -->" '
        $0 == marker { markers++; state = 1; next }
        state == 1 && /^[[:space:]]*$/ { next }
        state == 1 && /^```swift[[:space:]]*$/ { state = 2; next }
        state == 1 { state = 0; next }
        state == 2 && /^```/ { state = 0; closed++; next }
        state == 2 { print }
        END { if (markers != 1 || closed != 1) exit 1 }
    ' "$readme"
}
manifest=$(extract swiftpm/Package.swift) ||
    fail "README.md needs the line '<!-- example: swiftpm/Package.swift -->' once, followed by a \`\`\`swift block (the consumer's Package.swift)"
program=$(extract swiftpm/main.swift) ||
    fail "README.md needs the line '<!-- example: swiftpm/main.swift -->' once, followed by a \`\`\`swift block (the example program)"

package_lines=$(grep -c '\.package(url: *"[^"]*", *from: *"[^"]*")' <<<"$manifest" || true)
[[ $package_lines == 1 ]] ||
    fail "README.md's manifest needs exactly one '.package(url: \"...\", from: \"...\")' line, found $package_lines"
readme_version=$(sed -n 's/.*\.package(url: *"[^"]*", *from: *"\([^"]*\)").*/\1/p' <<<"$manifest")
[[ $readme_version == "$version" ]] ||
    fail "README.md's manifest says from: \"$readme_version\", include/nn.h says $version: update the README"
grep -q '\.product(name: *"NNCore", *package: *"libnn")' <<<"$manifest" ||
    fail "README.md's manifest does not depend on .product(name: \"NNCore\", package: \"libnn\")"
target=$(sed -n 's/.*\.executableTarget(name: *"\([^"]*\)".*/\1/p' <<<"$manifest")
[[ -n $target && $(wc -l <<<"$target") == 1 ]] ||
    fail "README.md's manifest needs exactly one .executableTarget(name: \"...\""
pass "README.md's Swift package and example extracted (target $target, from: \"$version\")"

# --- A git repository of the working tree, tagged with the version -----------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/libnn-swiftpm-consumer.XXXXXX")
cleanup() {
    if [[ ${NN_KEEP_TMP:-0} == 1 ]]; then echo "-- swiftpm-consumer: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# SwiftPM's and swiftc's temporary files go there too.
export TMPDIR=$tmp
repo=$tmp/libnn            # the URL's last component is the package identity
consumer=$tmp/consumer
negative=$tmp/negative
# The cache (SwiftPM's clones and manifests) is shared by the two packages
# below and lives in $tmp like everything else; each has its own scratch path.
swiftpm=(--scratch-path "$tmp/scratch" --cache-path "$tmp/cache")
swiftpm_negative=(--scratch-path "$tmp/scratch-negative" --cache-path "$tmp/cache")
git_q=(git -c user.name=libnn-test -c user.email=libnn-test@invalid
       -c commit.gpgsign=false -c tag.gpgsign=false -c core.hooksPath=/dev/null)

"$root/scripts/copy-worktree.sh" "$root" "$repo" || fail "copying the working tree into $repo"
[[ -f $repo/Package.swift ]] || fail "no Package.swift in the copy of the working tree"
"${git_q[@]}" -C "$repo" init -q -b main
"${git_q[@]}" -C "$repo" add -A -f .
"${git_q[@]}" -C "$repo" commit -q -m "libnn $version (working tree of $root)"
"${git_q[@]}" -C "$repo" tag "$version"
step "tagged $version in $repo ($(git -C "$repo" ls-files | wc -l) files)"

# --- The consumer -------------------------------------------------------------
repo_sed=$(printf '%s' "$repo" | sed 's/[&|\\]/\\&/g')   # as a sed replacement
write_consumer() {  # DIR FROM: the README's package, depending on $repo from: FROM
    mkdir -p "$1/Sources/$target"
    sed "s|\(\.package(url: *\)\"[^\"]*\"\(, *from: *\)\"[^\"]*\"|\1\"file://$repo_sed\"\2\"$2\"|" \
        <<<"$manifest" >"$1/Package.swift"
    printf '%s\n' "$program" >"$1/Sources/$target/main.swift"
    grep -qF "\"file://$repo\"" "$1/Package.swift" && grep -qF "from: \"$2\"" "$1/Package.swift" ||
        fail "could not point $1/Package.swift at $repo from: \"$2\""
}
write_consumer "$consumer" "$version"

log=$tmp/build.log
if ! swift build --package-path "$consumer" "${swiftpm[@]}" -c "$config" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    fail "swift build of the consumer (depends on libnn from: \"$version\") failed"
fi
step "consumer built ($config)"
pass "a package depending on libnn from: \"$version\" builds (import NNCore)"

# --- The resolved version ------------------------------------------------------
resolved_file=$consumer/Package.resolved
[[ -f $resolved_file ]] || fail "no Package.resolved in the consumer"
# The pin of libnn: "kind" (localSourceControl: a git repository, not a path),
# "revision" and "version", each the first such key after "identity" : "libnn".
pin() {
    awk -v key="$1" '/"identity" *: *"libnn"/ { found = 1 }
        found && $0 ~ "\"" key "\" *:" { v = $0; sub(/^[^:]*: *"/, "", v); sub(/".*/, "", v); print v; exit }' "$resolved_file"
}
tag_commit=$(git -C "$repo" rev-parse "$version^{commit}")
[[ $(pin kind) == localSourceControl && $(pin version) == "$version" && $(pin revision) == "$tag_commit" ]] ||
    { cat "$resolved_file" >&2
      fail "Package.resolved pins libnn as kind '$(pin kind)', version '$(pin version)', revision '$(pin revision)'; expected localSourceControl, $version, $tag_commit (the tag)"; }
deps=$(swift package --package-path "$consumer" "${swiftpm[@]}" show-dependencies 2>&1) ||
    { echo "$deps" >&2; fail "swift package show-dependencies failed"; }
# A line such as: └── libnn</tmp/.../libnn@0.6.0>(traits: default)
grep -q "libnn<[^>]*@$version>" <<<"$deps" ||
    { echo "$deps" >&2; fail "show-dependencies does not show libnn@$version"; }
pass "resolved libnn $version at the tag's commit (Package.resolved and show-dependencies)"

# --- The program's output ------------------------------------------------------
bin=$(swift build --package-path "$consumer" "${swiftpm[@]}" -c "$config" --show-bin-path)/$target
out=$("$bin" 2>&1) || { echo "$out" >&2; fail "the README's example exited with an error"; }
echo "   output: $out"
# The first number is the last training loss; the numbers in brackets are the
# predictions for the inputs (0,0) (0,1) (1,0) (1,1).
loss=$(awk 'NR == 1 { print $1 }' <<<"$out")
preds=$(sed -n 's/.*\[\([^]]*\)\].*/\1/p' <<<"$out" | head -n 1 | tr -d ' ')
awk -v l="$loss" 'BEGIN { exit !(l ~ /^[0-9.eE+-]+$/ && l + 0 >= 0 && l + 0 < 0.01) }' ||
    fail "the final loss is '$loss', expected a number below 0.01"
awk -v p="$preds" 'BEGIN { n = split(p, v, ","); if (n != 4) exit 1
        exit !(v[1] < 0.5 && v[2] > 0.5 && v[3] > 0.5 && v[4] < 0.5) }' ||
    fail "the predictions are [$preds], expected XOR: below, above, above, below 0.5"
step "example ran"
pass "the README's example trains XOR: loss $loss, predictions [$preds]"

# --- A version that does not exist must not resolve ------------------------------
write_consumer "$negative" "$next_major"
if neg=$(swift package --package-path "$negative" "${swiftpm_negative[@]}" resolve 2>&1); then
    echo "$neg" >&2
    fail "from: \"$next_major\" resolved, but only $version is tagged: resolution is not by version"
fi
# SwiftPM 6.3 says: Dependencies could not be resolved because no versions of
# 'libnn' match the requirement 1.0.0..<2.0.0 and root depends on 'libnn' ...
grep -q "could not be resolved.*'libnn'" <<<"$neg" ||
    { echo "$neg" >&2; fail "from: \"$next_major\" failed for another reason than the version"; }
step "negative resolution checked"
pass "from: \"$next_major\" does not resolve (only $version is tagged)"

echo "PASS: swiftpm-consumer: libnn $version consumed by version from SwiftPM in $(( SECONDS - t0 )) s"
