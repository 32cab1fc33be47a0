#!/usr/bin/env bash
# libnn under the sanitizers: `make sanitize` (and .ci/run after make test).
#
#   scripts/sanitize.sh [STAGE ...]      (default: every stage, in this order)
#
# Stages:
#   asan        libnn.so built by SwiftPM with `swiftc -sanitize=address` (its C
#               target with clang -fsanitize=address,undefined) into
#               .build-asan/; every cmocka suite of Tests/c compiled with the
#               toolchain's clang -fsanitize=address,undefined (CMake, in
#               build-asan/) and run by ctest, leaks checked (LeakSanitizer).
#               Not test_allocations (it replaces malloc, as ASan does) nor the
#               qemu runs (a second emulator under ASan's shadow memory).
#   swift-asan  `swift test` with --sanitize=address (.build-asan-test/),
#               without leak checks: the tests' own thread pools live until
#               the process ends by design, and XCTest leaks on its own.
#   tsan        libnn.so with `swiftc -sanitize=thread` into .build-tsan/; the
#               threaded suites (test_concurrency: 8 threads x 1000 predicts
#               on one model, fit against other threads, weights swapped
#               under predicts, free while predicting; test_threads: the
#               pool, bit-identical results over thread counts;
#               test_data_parallel: ranks as threads training side by side
#               through an in-process all-reduce; test_input_gradient:
#               two threads computing input gradients on one model) compiled with
#               clang -fsanitize=thread (build-tsan/) and run by ctest.
#   swift-tsan  `swift test` with --sanitize=thread, the threaded tests
#               (ThreadPool*, ConcurrentInference*) (.build-tsan-test/).
#
# Any sanitizer report fails its stage (halt_on_error; UBSan without
# recovery), and the script stops at the first failing stage.
#
# Swift has no -sanitize=undefined on Linux (swiftc: "unsupported option
# '-sanitize=undefined'"): the Swift code's undefined behaviour is what its
# own checks catch (bounds, overflow; exclusivity in debug builds, which
# swift-asan runs); UBSan covers the C code (NNCPUFeatures and the tests).
#
# The C side must use the clang of the Swift toolchain: its sanitizer
# runtimes are the ones swiftc's instrumentation calls (gcc's libtsan lacks
# __tsan_memcpy, for one). Its TSan runtime also needs libdispatch and
# libBlocksRuntime, which the toolchain ships.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
stages=("$@")
(( ${#stages[@]} )) || stages=(asan swift-asan tsan swift-tsan)

fail() { echo "sanitize: $*" >&2; exit 1; }

swiftc_path=$(command -v swiftc) || fail "no swiftc on PATH"
toolchain=$(cd "$(dirname "$(readlink -f "$swiftc_path")")/.." && pwd)
clang=$toolchain/bin/clang
clangxx=$toolchain/bin/clang++
[[ -x $clang && -x $clangxx ]] || fail "the Swift toolchain ($toolchain) has no clang/clang++"
runtime_dir=$toolchain/lib/swift/linux

# Runs a command, its output in a log that is printed only if it fails.
quiet() {
    local log=$1; shift
    if ! "$@" >"$log" 2>&1; then
        grep -v "Cannot export local symbol" "$log" | tail -60 >&2
        fail "failed: $* (whole log: $log)"
    fi
}

# Configures and builds the cmocka suites in $1 against a libnn built with
# the Swift flags $2, C/C++ flags $3 and linker flags $4.
build_suites() {
    local dir=$1 swift_flags=$2 c_flags=$3 link_flags=$4 scratch=$5
    quiet "$dir.configure.log" cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release \
        -DNN_SWIFT_SCRATCH="$scratch" "-DNN_SWIFT_FLAGS=$swift_flags" \
        -DCMAKE_C_COMPILER="$clang" -DCMAKE_CXX_COMPILER="$clangxx" \
        "-DCMAKE_C_FLAGS=$c_flags" "-DCMAKE_CXX_FLAGS=$c_flags" \
        "-DCMAKE_EXE_LINKER_FLAGS=$link_flags" -DNN_BUILD_EXAMPLES=OFF
    quiet "$dir.build.log" cmake --build "$dir" -j "$(nproc)"
}

for stage in "${stages[@]}"; do
    start=$SECONDS
    case $stage in
    asan)
        echo "sanitize: asan - libnn (swiftc -sanitize=address) and the cmocka suites (clang -fsanitize=address,undefined)"
        build_suites build-asan "-Xswiftc;-sanitize=address;-Xcc;-fsanitize=address,undefined" \
            "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
            "-fsanitize=address,undefined" "$root/.build-asan"
        # (test_mpi is left out: LeakSanitizer reports Open MPI's own
        # allocations as leaks; the data-parallel paths run here in
        # test_data_parallel, ranks as threads)
        ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0 \
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            ctest --test-dir build-asan --output-on-failure --no-tests=error -j "$(nproc)" \
                -R '^test_' -E 'test_allocations|test_coverage|test_mpi'
        ;;
    swift-asan)
        echo "sanitize: swift-asan - swift test --sanitize=address"
        status=0
        ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 \
            swift test --disable-swift-testing --sanitize=address --scratch-path "$root/.build-asan-test" \
            > .build-asan-test.log 2>&1 || status=$?
        grep -E "error:|ERROR: AddressSanitizer" .build-asan-test.log | head -20 || true
        (( status == 0 )) || fail "swift test under AddressSanitizer failed with status $status (log: .build-asan-test.log)"
        # the last summary is the whole run's ("Selected tests" / "All tests")
        tail -n 5 .build-asan-test.log | grep -Eq 'Executed [1-9][0-9]* tests?, with 0 failures' ||
            fail "swift test under AddressSanitizer ran no test or had failures (log: .build-asan-test.log)"
        ! grep -q "ERROR: AddressSanitizer" .build-asan-test.log ||
            fail "AddressSanitizer reported an error (log: .build-asan-test.log)"
        grep -E "Executed [0-9]+ tests" .build-asan-test.log | tail -1
        ;;
    tsan)
        echo "sanitize: tsan - libnn (swiftc -sanitize=thread) and the threaded cmocka suites (clang -fsanitize=thread)"
        build_suites build-tsan "-Xswiftc;-sanitize=thread" "-fsanitize=thread -fno-omit-frame-pointer" \
            "-fsanitize=thread -L$runtime_dir -ldispatch -lBlocksRuntime -Wl,-rpath,$runtime_dir" "$root/.build-tsan"
        TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
            ctest --test-dir build-tsan --output-on-failure --no-tests=error -R '^test_(concurrency|threads|data_parallel|input_gradient)$'
        ;;
    swift-tsan)
        echo "sanitize: swift-tsan - swift test --sanitize=thread (the threaded tests)"
        TSAN_OPTIONS=halt_on_error=1 swift test --disable-swift-testing --sanitize=thread \
            --scratch-path "$root/.build-tsan-test" --filter 'ThreadPool|ConcurrentInference' \
            > .build-tsan-test.log 2>&1 || { tail -60 .build-tsan-test.log >&2; fail "swift test under ThreadSanitizer failed"; }
        grep -E "Executed [0-9]+ tests" .build-tsan-test.log | tail -1
        tail -n 5 .build-tsan-test.log | grep -Eq 'Executed [1-9][0-9]* tests?, with 0 failures' ||
            fail "swift test under ThreadSanitizer ran no test (log: .build-tsan-test.log)"
        ! grep -q "WARNING: ThreadSanitizer" .build-tsan-test.log ||
            fail "ThreadSanitizer reported a race (log: .build-tsan-test.log)"
        ;;
    *)
        fail "unknown stage '$stage' (asan, swift-asan, tsan, swift-tsan)"
        ;;
    esac
    echo "sanitize: $stage passed in $((SECONDS - start)) s"
done
