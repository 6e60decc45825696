// swift-tools-version:6.1
import PackageDescription

/// swtrain: distributed training and model optimisation in Swift on Open MPI.
/// Dependencies point down the list: SwConfig and SwTensor at the bottom, SwTrain (config and
/// trainer) above the libraries, SwCommands (train/eval/inspect/generate/bench) on top.
let package = Package(
    name: "swtrain",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "swtrain", targets: ["swtrain"]),
        .library(name: "SwTrain", targets: ["SwTrain"]),
        .library(name: "SwCommands", targets: ["SwCommands"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // SHA-256 of checkpoint files (BoringSSL on Linux, with the CPU's SHA extensions).
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // .npz archives, stored and deflated (np.savez and np.savez_compressed).
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
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
        // CPU features (CPUID/XGETBV, read once), the AMX permission, the SWTRAIN_KERNELS switch.
        .target(name: "CCPU"),
        // Hand-written AVX-512 SGEMM kernels for dense-layer shapes (C, no unsafe flags).
        .target(name: "CGemm", dependencies: ["CCPU"]),
        // AVX-512 optimizer and dtype-conversion kernels with portable fallbacks, chosen at run time.
        .target(name: "CKernels", dependencies: ["CCPU"]),
        .target(name: "SwTensor", dependencies: ["CBLAS", "CGemm", "CKernels", "CCPU"]),
        .target(name: "SwNN", dependencies: ["SwTensor", "SwConfig", "CKernels"]),
        .target(name: "SwOptim", dependencies: ["SwTensor", "CKernels"]),
        .target(name: "SwData", dependencies: [
            "SwTensor", "SwConfig", .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        .target(name: "SwComm", dependencies: ["CMPI"]),
        .target(name: "SwParallel", dependencies: ["SwTensor", "SwComm", "SwNN", "SwOptim"]),
        .target(name: "SwCheckpoint", dependencies: [
            "SwTensor", "SwConfig", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "SwTrain", dependencies: [
            "CBLAS", "SwTensor", "SwConfig", "SwNN", "SwOptim", "SwData", "SwComm", "SwParallel", "SwCheckpoint",
        ]),
        // The commands, benches and text generation over the trainer library.
        .target(name: "SwCommands", dependencies: [
            "CBLAS", "SwTensor", "SwConfig", "SwNN", "SwData", "SwComm", "SwParallel", "SwCheckpoint", "SwTrain",
        ]),
        // Hyperparameter search: studies of trials that are training runs, Optuna journal storage.
        .target(name: "SwTune", dependencies: ["SwTrain", "SwConfig", "SwComm", "SwTensor"]),
        // Model compression: low-rank factorization, pruning (CSR inference kernel) and the compressed-model folder.
        .target(name: "SwCompress", dependencies: [
            "SwCommands", "SwTrain", "SwNN", "SwCheckpoint", "SwComm", "SwConfig", "SwData", "SwTensor", "CLAPACKE", "CKernels",
        ]),
        .executableTarget(name: "swtrain", dependencies: [
            "SwCommands", "SwTrain", "SwTune", "SwCompress",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Multi-rank self-check, spawned under mpirun by SwCommTests.
        .executableTarget(name: "swtrain-commcheck", dependencies: ["SwComm", "SwParallel", "SwTensor"]),

        // Test helpers (finite differences, Double references), internal to the tests.
        .target(name: "_TestSupport", dependencies: [
            "SwTensor", "SwNN", .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        .testTarget(name: "SwTensorTests", dependencies: ["SwTensor", "CGemm", "CKernels", "CCPU", "_TestSupport"]),
        .testTarget(name: "SwNNTests", dependencies: ["SwNN", "SwConfig", "CKernels", "_TestSupport"]),
        .testTarget(name: "SwOptimTests", dependencies: ["SwOptim", "SwNN", "CKernels", "CCPU", "_TestSupport"]),
        .testTarget(name: "SwDataTests", dependencies: ["SwData", "_TestSupport"]),
        .testTarget(name: "SwCommTests", dependencies: ["SwComm", "SwParallel", "_TestSupport"]),
        .testTarget(name: "SwParallelTests", dependencies: ["SwParallel", "SwComm", "SwTensor", "SwNN"]),
        .testTarget(name: "SwCheckpointTests", dependencies: ["SwCheckpoint", "SwConfig", "_TestSupport"]),
        .testTarget(name: "SwTuneTests", dependencies: ["SwTune", "SwTrain", "SwConfig", "SwComm", "_TestSupport"]),
        .testTarget(name: "SwCompressTests", dependencies: [
            "SwCompress", "SwCommands", "SwTrain", "SwNN", "SwConfig", "SwTensor", "SwCheckpoint", "CKernels", "CCPU", "_TestSupport",
        ]),
        .testTarget(name: "SwTrainTests", dependencies: ["SwTrain", "SwConfig", "SwComm", "SwCheckpoint", "_TestSupport"]),
        .testTarget(name: "SwCommandsTests", dependencies: [
            "SwCommands", "SwTrain", "SwConfig", "SwComm", "SwCheckpoint", "SwData", "SwNN", "SwTensor", "_TestSupport",
        ]),
    ]
)
