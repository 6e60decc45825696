import CCPU

/// What this CPU and its OS let swtrain's kernels run, and the one switch that forces the
/// portable kernels everywhere.
///
/// Features come from CPUID and XGETBV, read once per process (target `CCPU`) and then one
/// load per query: a feature counts only when the CPU has the instructions and the OS saves
/// their registers (XCR0: opmask and ZMM state for AVX-512, tile state for AMX). On a non-x86
/// host the set is empty and every kernel takes its portable path.
///
/// `SWTRAIN_KERNELS=portable` (read once, at the first kernel call) makes every swtrain
/// kernel take its portable path: OpenBLAS instead of the own AVX-512 GEMM, the scalar
/// optimizer loops, the integer dtype conversions. Unset or `native`: use what the CPU has.
/// `withKernelPath` overrides it for the calling thread (tests compare both paths in one
/// process). See docs/kernels.md.
public enum CPU {
    /// A set of CPU features (bits of `swt_cpu_features()`).
    public struct Features: OptionSet, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        public static let avx2 = Features(rawValue: UInt32(SWT_CPU_AVX2))
        public static let fma = Features(rawValue: UInt32(SWT_CPU_FMA))
        public static let f16c = Features(rawValue: UInt32(SWT_CPU_F16C))
        public static let avx512f = Features(rawValue: UInt32(SWT_CPU_AVX512F))
        public static let avx512cd = Features(rawValue: UInt32(SWT_CPU_AVX512CD))
        public static let avx512bw = Features(rawValue: UInt32(SWT_CPU_AVX512BW))
        public static let avx512dq = Features(rawValue: UInt32(SWT_CPU_AVX512DQ))
        public static let avx512vl = Features(rawValue: UInt32(SWT_CPU_AVX512VL))
        public static let avx512vnni = Features(rawValue: UInt32(SWT_CPU_AVX512VNNI))
        public static let avx512bf16 = Features(rawValue: UInt32(SWT_CPU_AVX512BF16))
        public static let amxTile = Features(rawValue: UInt32(SWT_CPU_AMX_TILE))
        public static let amxInt8 = Features(rawValue: UInt32(SWT_CPU_AMX_INT8))
        public static let amxBF16 = Features(rawValue: UInt32(SWT_CPU_AMX_BF16))

        /// AVX-512 F, CD, BW, DQ and VL: what OpenBLAS's SkylakeX kernels need.
        public static let avx512Core: Features = [.avx512f, .avx512cd, .avx512bw, .avx512dq, .avx512vl]

        /// Every feature with its short name, in bit order.
        public static let named: [(Features, String)] = [
            (.avx2, "avx2"), (.fma, "fma"), (.f16c, "f16c"), (.avx512f, "avx512f"), (.avx512cd, "avx512cd"),
            (.avx512bw, "avx512bw"), (.avx512dq, "avx512dq"), (.avx512vl, "avx512vl"),
            (.avx512vnni, "avx512vnni"), (.avx512bf16, "avx512bf16"), (.amxTile, "amx-tile"),
            (.amxInt8, "amx-int8"), (.amxBF16, "amx-bf16"),
        ]

        /// The short names, space separated (`"avx2 fma f16c avx512f ..."`; `"none"` if empty).
        public var description: String {
            let names = Self.named.filter { contains($0.0) }.map(\.1)
            return names.isEmpty ? "none" : names.joined(separator: " ")
        }
    }

    /// The features of this CPU that the OS has enabled (read once).
    public static var features: Features { Features(rawValue: swt_cpu_features()) }

    /// Whether the CPU and OS support every feature in `f`.
    public static func has(_ f: Features) -> Bool { features.contains(f) }

    /// A one-line summary such as `"AVX-512 VNNI BF16 AMX(int8,bf16)"` (`"AVX2 F16C"` without
    /// AVX-512, `"portable only"` without either).
    public static var description: String { summary(features) }

    /// The summary of any feature set (see `description`).
    public static func summary(_ f: Features) -> String {
        var parts: [String] = []
        if f.contains(.avx512f) {
            parts.append("AVX-512")
            if f.contains(.avx512vnni) { parts.append("VNNI") }
            if f.contains(.avx512bf16) { parts.append("BF16") }
        } else if f.contains(.avx2) {
            parts.append("AVX2")
            if f.contains(.f16c) { parts.append("F16C") }
        }
        if f.contains(.amxTile) {
            let kinds = [(Features.amxInt8, "int8"), (.amxBF16, "bf16")].filter { f.contains($0.0) }.map(\.1)
            parts.append("AMX(" + kinds.joined(separator: ",") + ")")
        }
        return parts.isEmpty ? "portable only" : parts.joined(separator: " ")
    }

    /// Asks Linux, once per process, for permission to use AMX tile data
    /// (`arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)`); without it the first tile
    /// instruction raises SIGILL. True when granted; false without AMX, off Linux, or refused.
    /// Later calls return the first answer.
    @discardableResult
    public static func requestAMX() -> Bool { swt_cpu_request_amx() != 0 }

    /// Whether `requestAMX()` has run and was granted (does not ask).
    public static var amxGranted: Bool { swt_cpu_amx_granted() != 0 }

    /// Which code swtrain's kernels run.
    public enum KernelPath: String, Sendable, CaseIterable {
        /// The vector kernels the CPU supports (the default).
        case native
        /// The portable loops only: no own AVX-512 GEMM (OpenBLAS), scalar optimizer loops,
        /// integer dtype conversions.
        case portable
    }

    /// The environment variable that forces the portable path: `SWTRAIN_KERNELS=portable`.
    public static let environmentVariable = "SWTRAIN_KERNELS"

    /// The path the environment chose (read once per process).
    public static var kernelPathFromEnvironment: KernelPath {
        swt_kernels_portable_from_environment() != 0 ? .portable : .native
    }

    /// The path kernels called on this thread take (the thread override, else the environment).
    public static var kernelPath: KernelPath { swt_kernels_portable() != 0 ? .portable : .native }

    /// The features kernels called on this thread may use: `features`, or none on the portable path.
    public static var kernelFeatures: Features { Features(rawValue: swt_kernel_features()) }

    /// Runs `body` with kernels called on this thread forced onto `path`, then restores the
    /// previous choice. For tests that compare both paths in one process; objects that fix a
    /// layout when built (a packed GEMM operand, for instance) must be built and used inside.
    public static func withKernelPath<R>(_ path: KernelPath, _ body: () throws -> R) rethrows -> R {
        let previous = swt_kernels_set_thread_override(path == .portable ? 1 : 0)
        defer { _ = swt_kernels_set_thread_override(previous) }
        return try body()
    }
}
