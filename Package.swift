// swift-tools-version:6.2
// libnn: a small neural-network library with a Swift core and a C ABI.
//
//   product "nn"      → libnn.so, the C library declared by include/nn.h
//                        (SONAME libnn.so.<major>, the major of nn.h's version)
//   product "NNCore"  → the Swift library: `import NNCore`
//
// swift-tools-version 6.2: SwiftPM accepts the per-target unsafe flags below
// (each kernel level's -target-cpu, -Ounchecked) in a package that another
// package depends on by version only from manifests of 6.2 on.
//
// Build the C library with the Swift runtime linked in:
//   swift build -c release -Xswiftc -static-stdlib
import PackageDescription

/// The package root, for linker flags that need an absolute path.
let root = String(#filePath.dropLast("/Package.swift".count))

/// One GEMM kernel target per instruction-set level: the shared driver
/// (a symbolic link to KernelsShared/GemmDriver.swift), the level's generated
/// micro-kernels (scripts/gen_microkernels.py) and block sizes, compiled for
/// that level's CPU. NNCore picks one at run time (Kernels/CPUDispatch.swift).
func kernels(_ name: String, targetCPU: String?) -> Target {
    var flags = ["-Ounchecked", "-Xfrontend", "-disable-reflection-metadata", "-Xcc", "-fno-math-errno"]
    if let targetCPU { flags = ["-target-cpu", targetCPU] + flags }
    return .target(name: name, dependencies: ["NNCPUFeatures"], swiftSettings: [.unsafeFlags(flags)])
}

#if arch(x86_64)
let kernelTargets = [
    kernels("NNKernelsAVX512", targetCPU: "skylake-avx512"),
    kernels("NNKernelsAVX2", targetCPU: "haswell"),
    kernels("NNKernelsBaseline", targetCPU: nil),
]
#else
// Elsewhere (arm64: NEON is the baseline) only the portable level.
let kernelTargets = [kernels("NNKernelsBaseline", targetCPU: nil)]
#endif

let package = Package(
    name: "libnn",
    products: [
        .library(name: "nn", type: .dynamic, targets: ["NNCAPI"]),
        .library(name: "NNCore", targets: ["NNCore"]),
    ],
    targets: [
        // Exposes include/nn.h to Swift; nothing else.
        .systemLibrary(name: "CNN", path: "Sources/CNN"),
        // The pure-Swift core: tensors, kernels, layers, losses, optimizers, models.
        // CPUID/XGETBV and per-thread scratch memory for the kernels.
        .target(name: "NNCPUFeatures"),
        .target(
            name: "NNCore",
            dependencies: ["NNCPUFeatures"] + kernelTargets.map { .target(name: $0.name) },
            // Lets square roots compile to vector instructions instead of an
            // errno-setting library call (about 4× on Adam/RMSprop/Adagrad).
            // -enforce-exclusivity=unchecked: the dynamic exclusivity checks
            // on class properties cost more than a small network's step.
            // NN_TEST_HOOKS (debug builds only, so never in the shipped
            // libnn.so): hooks that tests use to plant faults.
            swiftSettings: [.unsafeFlags(["-Xcc", "-fno-math-errno", "-enforce-exclusivity=unchecked"]),
                            .define("NN_TEST_HOOKS", .when(configuration: .debug))]
        ),
        // The C ABI: every declaration of nn.h, implemented with @c @implementation.
        .target(
            name: "NNCAPI",
            dependencies: ["CNN", "NNCore", "NNCPUFeatures"],
            exclude: ["exports.map"],
            linkerSettings: [.unsafeFlags([
                "-Xlinker", "-soname=libnn.so.0",  // nn.h's NN_VERSION_MAJOR (test: abi_soname)
                // export nn_* only: the Swift runtime and the core stay hidden
                "-Xlinker", "--version-script=\(root)/Sources/NNCAPI/exports.map",
            ])]
        ),
        .testTarget(name: "NNCoreTests", dependencies: ["NNCore"],
                    swiftSettings: [.define("NN_TEST_HOOKS", .when(configuration: .debug))]),
    ] + kernelTargets
)
