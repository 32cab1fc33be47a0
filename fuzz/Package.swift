// swift-tools-version:6.0
// The libFuzzer target of libnn's model loader (see scripts/fuzz.sh).
//
// A package of its own, next to the main one, so that a plain `swift build`
// or `swift test` at the root never builds it: it only links with
// `--sanitize=fuzzer` (libFuzzer supplies main). It uses the main package's
// NNCore product as a path dependency, so NNCore and its kernel targets are built
// with exactly the root Package.swift's settings, plus the sanitizer flags,
// which apply to every target of the build (scripts/fuzz.sh runs this):
//
//   swift build --package-path fuzz --scratch-path .build-fuzz -c release \
//       --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address \
//       -Xcc -fsanitize=fuzzer-no-link,address -Xswiftc -use-ld=lld --product nnfuzz
//
// (-sanitize=fuzzer,address in one flag: swiftc keeps only the last
// -sanitize= it sees, so SwiftPM's `--sanitize=fuzzer --sanitize=address`
// alone would build NNCore without coverage instrumentation.)
import PackageDescription

let package = Package(
    name: "nnfuzz",
    products: [.executable(name: "nnfuzz", targets: ["NNFuzz"])],
    dependencies: [.package(name: "libnn", path: "..")],
    targets: [
        .executableTarget(
            name: "NNFuzz",
            dependencies: [.product(name: "NNCore", package: "libnn")],
            // main.swift would make top-level code; libFuzzer owns main.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
