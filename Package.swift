// swift-tools-version:6.1
import PackageDescription

/// swtrain: distributed training and model optimisation in Swift on Open MPI.
/// One target per concern (README.md, "Layout"); dependencies point down the list.
let package = Package(
    name: "swtrain",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "swtrain", targets: ["swtrain"]),
        .library(name: "SwTrain", targets: ["SwTrain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries found by pkg-config (Debian: libopenmpi-dev, libopenblas-dev, liblapacke-dev).
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", pkgConfig: "lapacke",
                       providers: [.apt(["liblapacke-dev"])]),

        .target(name: "SwConfig"),
        // Hand-written AVX-512 SGEMM kernels for dense-layer shapes (C, no unsafe flags).
        .target(name: "CGemm"),
        .target(name: "SwTensor", dependencies: ["CBLAS", "CGemm"]),
        .target(name: "SwNN", dependencies: ["SwTensor", "SwConfig"]),
        // AVX-512 optimizer kernels with a scalar fallback, chosen at run time (no build flags).
        .target(name: "CKernels"),
        .target(name: "SwOptim", dependencies: ["SwTensor", "CKernels"]),
        .target(name: "SwData", dependencies: ["SwTensor", "SwConfig"]),
        .target(name: "SwComm", dependencies: ["CMPI"]),
        .target(name: "SwParallel", dependencies: ["SwTensor", "SwComm", "SwNN"]),
        .target(name: "SwCheckpoint", dependencies: ["SwTensor"]),
        .target(name: "SwTrain", dependencies: [
            "CBLAS", "SwTensor", "SwConfig", "SwNN", "SwOptim", "SwData", "SwComm", "SwParallel", "SwCheckpoint",
        ]),
        // Model compression: low-rank factorization and the compressed-model folder.
        .target(name: "SwCompress", dependencies: ["SwTrain", "SwNN", "SwCheckpoint", "SwComm", "SwConfig", "SwData", "SwTensor", "CLAPACKE"]),
        .executableTarget(name: "swtrain", dependencies: [
            "SwTrain",
            "SwCompress",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Multi-rank self-check and all-reduce bench, spawned under mpirun by SwCommTests.
        .executableTarget(name: "swtrain-commcheck", dependencies: ["SwComm", "SwParallel", "SwTensor", "CMPI"]),

        // Test helpers (finite differences, Double references), internal to the tests.
        .target(name: "_TestSupport", dependencies: ["SwTensor", "SwNN"]),
        .testTarget(name: "SwTensorTests", dependencies: ["SwTensor", "CGemm", "_TestSupport"]),
        .testTarget(name: "SwNNTests", dependencies: ["SwNN", "SwConfig", "_TestSupport"]),
        .testTarget(name: "SwOptimTests", dependencies: ["SwOptim", "SwNN", "CKernels", "_TestSupport"]),
        .testTarget(name: "SwDataTests", dependencies: ["SwData", "_TestSupport"]),
        .testTarget(name: "SwCommTests", dependencies: ["SwComm", "SwParallel", "_TestSupport"]),
        .testTarget(name: "SwParallelTests", dependencies: ["SwParallel", "SwComm", "SwTensor", "SwNN"]),
        .testTarget(name: "SwCheckpointTests", dependencies: ["SwCheckpoint", "_TestSupport"]),
        .testTarget(name: "SwCompressTests", dependencies: ["SwCompress", "SwTrain", "SwNN", "SwConfig", "SwTensor", "_TestSupport"]),
        .testTarget(name: "SwTrainTests", dependencies: ["SwTrain", "SwConfig", "SwComm", "SwCheckpoint", "_TestSupport"]),
    ]
)
