#!/usr/bin/env bash
# Fuzzes libnn's model loader (Sequential.load(serialized:), the code behind
# nn_model_load and nn_model_load_from_buffer) with libFuzzer, AddressSanitizer
# and LeakSanitizer.
#
#   scripts/fuzz.sh [SECONDS] [LIBFUZZER_ARGS...]     (default 300 s; make fuzz)
#
# Builds fuzz/ (the target, Sources/NNFuzz/main.swift, and through it NNCore
# and the kernels, all instrumented for coverage and ASan) into .build-fuzz/,
# replays the reproducers of fixed bugs (Tests/fuzz/crashes/), then fuzzes a
# copy of the seed corpus (Tests/fuzz/corpus/, written by
# scripts/make_fuzz_corpus.py) for SECONDS, single process. Exits non-zero on
# any crash, trap, sanitizer report, leak, timeout or out-of-memory, printing
# the report and the input that caused it; and if the toolchain cannot build
# a fuzzer here (no libFuzzer), saying so. New corpus entries are kept in
# .build-fuzz/corpus/ for the next run unless NN_FUZZ_FRESH=1.
#
# Environment: NN_FUZZ_SCRATCH (build directory, default .build-fuzz),
# NN_FUZZ_RSS_MB (2048), NN_FUZZ_MALLOC_MB (512: the largest single
# allocation; a file of a few KB justifies far less), NN_FUZZ_TIMEOUT (10 s
# per input), NN_FUZZ_VERBOSE=1 (stream libFuzzer's output).
set -euo pipefail

seconds=${1:-300}
[[ $# -gt 0 ]] && shift
if ! [[ $seconds =~ ^[0-9]+$ ]] || (( seconds < 1 )); then
    echo "usage: scripts/fuzz.sh [SECONDS] [LIBFUZZER_ARGS...] (SECONDS a positive integer, got '$seconds')" >&2
    exit 2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
scratch=${NN_FUZZ_SCRATCH:-$root/.build-fuzz}
corpus_seed=$root/Tests/fuzz/corpus
crashes=$root/Tests/fuzz/crashes
dict=$root/Tests/fuzz/loader.dict

fail() { echo "fuzz: $*" >&2; exit 1; }

# --- Can this toolchain build a fuzzer? --------------------------------------
swiftc_path=$(command -v swiftc) || fail "no swiftc on PATH: cannot build the fuzz target"
toolchain=$(cd "$(dirname "$(readlink -f "$swiftc_path")")/.." && pwd)
arch=$(uname -m)
runtime=
for candidate in "$toolchain"/lib/clang/*/lib/linux/libclang_rt.fuzzer-"$arch".a \
                 "$toolchain"/lib/swift/clang/lib/linux/libclang_rt.fuzzer-"$arch".a; do
    [[ -f $candidate ]] && runtime=$candidate && break
done
if [[ -z $runtime ]]; then
    fail "this toolchain ($toolchain) has no libFuzzer runtime (libclang_rt.fuzzer-$arch.a); \
the fuzz target cannot be built here. Use a swift.org Linux toolchain."
fi
[[ -d $corpus_seed ]] && compgen -G "$corpus_seed/*" >/dev/null ||
    fail "no seed corpus in $corpus_seed (scripts/make_fuzz_corpus.py writes it)"

# --- Build --------------------------------------------------------------------
# --sanitize=fuzzer makes SwiftPM link the executable for libFuzzer (which
# provides main); the combined -sanitize=fuzzer,address is what instruments
# every Swift target (swiftc keeps only the last -sanitize= it is given, so
# SwiftPM's own separate flags would leave the code without coverage).
echo "fuzz: building the fuzz target in $scratch"
mkdir -p "$scratch"
build=(swift build --package-path "$root/fuzz" --scratch-path "$scratch" -c release
       --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address
       -Xswiftc -use-ld=lld --product nnfuzz)
if ! "${build[@]}" >"$scratch/build.log" 2>&1; then
    grep -v "Cannot export local symbol" "$scratch/build.log" | tail -40 >&2
    fail "could not build the fuzz target (log: $scratch/build.log): $(printf '%q ' "${build[@]}")"
fi
fuzzer=$("${build[@]}" --show-bin-path)/nnfuzz
[[ -x $fuzzer ]] || fail "the build gave no executable at $fuzzer"

# Sanitizers report, libFuzzer saves the input; Swift's own crash handler
# (swift-backtrace) would take over the signal and may wait, so it is off.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0:detect_stack_use_after_return=0}
if [[ -z ${ASAN_SYMBOLIZER_PATH:-} && -x $toolchain/bin/llvm-symbolizer ]]; then
    export ASAN_SYMBOLIZER_PATH=$toolchain/bin/llvm-symbolizer
fi
artifacts=$scratch/artifacts
mkdir -p "$artifacts"
options=(-rss_limit_mb="${NN_FUZZ_RSS_MB:-2048}" -malloc_limit_mb="${NN_FUZZ_MALLOC_MB:-512}"
         -timeout="${NN_FUZZ_TIMEOUT:-10}" -detect_leaks=1 -artifact_prefix="$artifacts/")

# --- Regressions: the reproducers of bugs found before ------------------------
shopt -s nullglob
repros=("$crashes"/*)
shopt -u nullglob
if (( ${#repros[@]} > 0 )); then
    echo "fuzz: replaying ${#repros[@]} reproducer(s) from Tests/fuzz/crashes/"
    if ! "$fuzzer" "${options[@]}" "${repros[@]}" >"$scratch/replay.log" 2>&1; then
        tail -80 "$scratch/replay.log" >&2
        fail "a reproducer in Tests/fuzz/crashes/ fails again (log: $scratch/replay.log)"
    fi
fi

# --- Fuzz ---------------------------------------------------------------------
corpus=$scratch/corpus
[[ ${NN_FUZZ_FRESH:-0} == 1 ]] && rm -rf "$corpus"
mkdir -p "$corpus"
cp "$corpus_seed"/* "$corpus"/
log=$scratch/fuzz.log
dict_arg=()
[[ -f $dict ]] && dict_arg=(-dict="$dict")
echo "fuzz: fuzzing for $seconds s (corpus: $corpus, log: $log)"
set +e
if [[ ${NN_FUZZ_VERBOSE:-0} == 1 ]]; then
    "$fuzzer" "${options[@]}" "${dict_arg[@]}" -max_total_time="$seconds" -print_final_stats=1 \
        "$@" "$corpus" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
else
    "$fuzzer" "${options[@]}" "${dict_arg[@]}" -max_total_time="$seconds" -print_final_stats=1 \
        "$@" "$corpus" >"$log" 2>&1
    status=$?
fi
set -e

grep -m1 -E '^#[0-9]+[[:space:]]+INITED' "$log" || true
grep -E '^#[0-9]+[[:space:]]+(pulse|NEW|REDUCE|DONE)' "$log" | tail -1 || true
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
if (( status != 0 )); then
    echo "----- libFuzzer's report (last 100 lines of $log) -----" >&2
    grep -v -E '^#[0-9]+[[:space:]]' "$log" | tail -100 >&2
    unit=$(sed -n "s/.*Test unit written to \(.*\)$/\1/p" "$log" | tail -1)
    echo "-----" >&2
    [[ -n $unit ]] && echo "fuzz: reproducer: $unit  (replay: $fuzzer $unit)" >&2
    fail "FAILED (libFuzzer exit status $status) after ${runs:-?} executions"
fi
[[ -n $runs ]] && (( runs > 0 )) || fail "libFuzzer ran no input (log: $log)"
elapsed=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
elapsed=${elapsed:-$seconds}
echo "fuzz: OK: $runs executions in $elapsed s ($(( runs / (elapsed > 0 ? elapsed : 1) )) exec/s), no crash, leak or timeout"
