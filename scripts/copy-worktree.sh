#!/usr/bin/env bash
# Copies a checkout's working tree — tracked files plus untracked files git
# does not ignore (`git ls-files -co --exclude-standard`), so uncommitted work
# is included; tracked files deleted in the working tree are skipped;
# symbolic links stay links — into DEST. The packaging tests build from such
# copies (scripts/test-swiftpm-consumer.sh, scripts/test-abi-growth.sh).
#   scripts/copy-worktree.sh SRC DEST
set -euo pipefail
src=$1 dest=$2
git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
    { echo "copy-worktree: $src is not a git checkout" >&2; exit 1; }
mkdir -p "$dest"
(cd "$src" && git ls-files -z -co --exclude-standard |
    while IFS= read -r -d '' f; do
        if [[ -e $f || -L $f ]]; then printf '%s\0' "$f"; fi
    done) |
    tar -C "$src" --null --no-recursion -T - -cf - | tar -C "$dest" -xf -
