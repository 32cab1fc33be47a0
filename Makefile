# libnn entry points. On a fresh machine:
#   make demo   trains a digits classifier through the Python binding
#   make test   runs every suite: swift test, cmocka (ctest), pytest
# Both install what is missing first (scripts/install-deps.sh).

SHELL := /bin/bash
PYTHON ?= python3
SWIFT_RELEASE = swift build -c release -Xswiftc -static-stdlib
LIB = .build/release/libnn.so
CMAKE_BUILD = build

.PHONY: all deps lib python demo test test-swift test-c test-python test-fuzz fuzz bench install clean

all: lib

deps:
	@PYTHON=$(PYTHON) scripts/install-deps.sh

# libnn.so with the Swift runtime linked in (SwiftPM is incremental).
lib:
	$(SWIFT_RELEASE)

# `import nn` works in $(PYTHON) from anywhere afterwards.
python: lib
	@PYTHON=$(PYTHON) scripts/link-python.sh

demo: deps python
	$(PYTHON) examples/digits.py

test: deps python
	$(MAKE) test-swift test-c test-python test-fuzz

# Each runner fails on a failing test; each also fails if it ran nothing.
test-swift:
	mkdir -p .build; set -o pipefail; swift test --disable-swift-testing 2>&1 | tee .build/swift-test.log
	@grep -Eq 'Executed [1-9][0-9]* tests?, with 0 failures' .build/swift-test.log || \
	  { echo "swift test ran no test" >&2; exit 1; }

test-c: lib
	cmake -S . -B $(CMAKE_BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(CMAKE_BUILD) -j2
	ctest --test-dir $(CMAKE_BUILD) --output-on-failure --no-tests=error

test-python: python
	$(PYTHON) -m pytest bindings/python/tests -q

# The model loader under libFuzzer with ASan/LSan (scripts/fuzz.sh; seeds in
# Tests/fuzz/corpus): a short run in `make test`, longer with `make fuzz`.
FUZZ_SECONDS ?= 300
FUZZ_TEST_SECONDS ?= 45
test-fuzz:
	scripts/fuzz.sh $(FUZZ_TEST_SECONDS)

fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

bench: python
	@NN_BENCH_DEPS=1 PYTHON=$(PYTHON) scripts/install-deps.sh
	$(PYTHON) benchmarks/bench.py

install: lib
	cmake -S . -B $(CMAKE_BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(CMAKE_BUILD) -j2
	cmake --install $(CMAKE_BUILD)

clean:
	rm -rf .build .build-fuzz $(CMAKE_BUILD) bindings/python/nn/libnn.so
