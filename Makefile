# libnn entry points. On a fresh machine:
#   make demo   trains a digits classifier through the Python binding
#   make test   runs every suite: swift test, cmocka (ctest), pytest
# Both install what is missing first (scripts/install-deps.sh).

SHELL := /bin/bash
PYTHON ?= python3
SWIFT_RELEASE = swift build -c release -Xswiftc -static-stdlib
LIB = .build/release/libnn.so
CMAKE_BUILD = build

.PHONY: all deps lib python demo test test-swift test-c test-python test-fuzz test-packaging fuzz sanitize bench dist-build install package clean

all: lib

deps:
	@PYTHON=$(PYTHON) scripts/install-deps.sh

# libnn.so with the Swift runtime linked in (SwiftPM is incremental). Its
# SONAME is libnn.so.0, so the link libnn.so.0 lets programs linked in place
# (cc -L.build/release -lnn) start; CMake stages the installable copy.
lib:
	$(SWIFT_RELEASE)
	ln -sf libnn.so .build/release/libnn.so.0

# `import nn` works in $(PYTHON) from anywhere afterwards.
python: lib
	@PYTHON=$(PYTHON) scripts/link-python.sh

demo: deps python
	$(PYTHON) examples/digits.py

test: deps python
	$(MAKE) test-swift test-c test-python test-packaging test-fuzz

# Each runner fails on a failing test; each also fails if it ran nothing.
test-swift:
	mkdir -p .build; set -o pipefail; swift test --disable-swift-testing 2>&1 | tee .build/swift-test.log
	@grep -Eq 'Executed [1-9][0-9]* tests?, with 0 failures' .build/swift-test.log || \
	  { echo "swift test ran no test" >&2; exit 1; }

test-c: lib
	cmake -S . -B $(CMAKE_BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(CMAKE_BUILD) -j2
	ctest --test-dir $(CMAKE_BUILD) --output-on-failure --no-tests=error
	@echo "kernel levels exercised by the C suites (count of suite runs):"
	@grep -h -o -E '(kernel level: [a-z0-9]+|SKIPPED: this CPU lacks [a-z0-9]+)' \
	  $(CMAKE_BUILD)/Testing/Temporary/LastTest.log | sort | uniq -c

test-python: python
	$(PYTHON) -m pytest bindings/python/tests -q

# libnn as users get it, from outside the checkout: a pip wheel in a fresh
# venv, a SwiftPM package depending on libnn by version, and an old program
# on a library whose options structs grew (the CMake package, pkg-config and
# the .deb files are ctest tests of test-c).
test-packaging: lib
	PYTHON=$(PYTHON) scripts/test-wheel.sh
	scripts/test-swiftpm-consumer.sh
	scripts/test-abi-growth.sh

# The model loader under libFuzzer with ASan/LSan (scripts/fuzz.sh; seeds in
# Tests/fuzz/corpus): a short run in `make test`, longer with `make fuzz`.
FUZZ_SECONDS ?= 300
FUZZ_TEST_SECONDS ?= 45
test-fuzz:
	scripts/fuzz.sh $(FUZZ_TEST_SECONDS)

fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

# libnn under AddressSanitizer + UndefinedBehaviorSanitizer (the cmocka
# suites and swift test) and ThreadSanitizer (the threaded suites and
# tests): scripts/sanitize.sh says what runs where. .ci/run runs it after
# make test.
sanitize: deps
	scripts/sanitize.sh

bench: python
	@NN_BENCH_DEPS=1 PYTHON=$(PYTHON) scripts/install-deps.sh
	$(PYTHON) benchmarks/bench.py

# make install [PREFIX=/usr/local]: nn.h, libnn.so.X.Y.Z and its links,
# nn.pc, the CMake package (runs ldconfig for /usr and /usr/local as root).
# Both use their own build tree without the tests (no cmocka or qemu needed).
PREFIX ?= /usr/local
DIST_BUILD = $(CMAKE_BUILD)/dist
dist-build: lib
	cmake -S . -B $(DIST_BUILD) -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DNN_BUILD_EXAMPLES=OFF >/dev/null
	cmake --build $(DIST_BUILD) -j2

install: dist-build
	cmake --install $(DIST_BUILD) --prefix $(PREFIX)

# make package: build/dist/packages/libnn0_X.Y.Z_<arch>.deb and libnn-dev_X.Y.Z_<arch>.deb
package: dist-build
	cd $(DIST_BUILD) && cpack -G DEB
	@ls -l $(DIST_BUILD)/packages/*.deb

clean:
	rm -rf .build .build-fuzz .build-asan .build-asan-test .build-tsan .build-tsan-test build-asan build-tsan $(CMAKE_BUILD) bindings/python/nn/libnn.so bindings/python/nn/_speedups.abi3.so bindings/python/nn/_speedups.abi3.so.tmp
