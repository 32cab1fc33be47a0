// swift-tools-version:6.0
// libnn: a small neural-network library with a Swift core and a C ABI.
//
//   product "nn"  → libnn.so, the C library declared by include/nn.h
//   product "NN"  → the Swift library (import NNCore)
//
// Build the C library with the Swift runtime linked in:
//   swift build -c release -Xswiftc -static-stdlib
import PackageDescription

/// The package root, for linker flags that need an absolute path.
let root = String(#filePath.dropLast("/Package.swift".count))

let package = Package(
    name: "libnn",
    products: [
        .library(name: "nn", type: .dynamic, targets: ["NNCAPI"]),
        .library(name: "NN", targets: ["NNCore"]),
    ],
    targets: [
        // Exposes include/nn.h to Swift; nothing else.
        .systemLibrary(name: "CNN", path: "Sources/CNN"),
        // The pure-Swift core: tensors, kernels, layers, losses, optimizers, models.
        .target(
            name: "NNCore",
            // Lets square roots compile to vector instructions instead of an
            // errno-setting library call (about 4× on Adam/RMSprop/Adagrad).
            swiftSettings: [.unsafeFlags(["-Xcc", "-fno-math-errno"])]
        ),
        // The C ABI: every declaration of nn.h, implemented with @c @implementation.
        .target(
            name: "NNCAPI",
            dependencies: ["CNN", "NNCore"],
            exclude: ["exports.map"],
            linkerSettings: [.unsafeFlags([
                "-Xlinker", "-soname=libnn.so",
                // export nn_* only: the Swift runtime and the core stay hidden
                "-Xlinker", "--version-script=\(root)/Sources/NNCAPI/exports.map",
            ])]
        ),
        .testTarget(name: "NNCoreTests", dependencies: ["NNCore"]),
    ]
)
