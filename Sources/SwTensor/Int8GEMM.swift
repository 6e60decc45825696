import CKernels

/// The int8 GEMM kernels (target `CKernels`, `ckernels_int8.h`): C = A Wᵀ with A uint8
/// activations, W int8 weights and exact int32 sums, on AMX tiles, AVX-512 VNNI or a portable
/// loop — the same integers on every path.
///
/// The path is chosen per call through `CPU`: AMX when the CPU and OS have AMX-TILE and
/// AMX-INT8 and Linux granted the tile permission (asked once, `CPU.requestAMX`), else VNNI
/// (AVX-512 F, BW, VL, VNNI), else portable; `SWTRAIN_KERNELS=portable` and
/// `CPU.withKernelPath(.portable)` force the portable loop. The AMX path has not yet run on
/// AMX hardware (the development machine has none). See docs/kernels.md.
public enum Int8GEMM {
    /// One implementation of the int8 GEMM.
    public enum Path: Int32, Sendable, CaseIterable, CustomStringConvertible {
        /// The plain C loop, the reference.
        case portable = 0
        /// AVX-512 VNNI (`vpdpbusd`).
        case vnni = 1
        /// AMX tiles (`tdpbusd`); untested on hardware.
        case amx = 2

        /// `"portable"`, `"vnni"` or `"amx"`.
        public var name: String { String(cString: swt_qgemm_path_name(rawValue)) }
        public var description: String { name }

        /// Whether this path may run on the calling thread (for AMX this asks Linux for the
        /// tile permission once per process).
        public var isAvailable: Bool { swt_qgemm_path_available(rawValue) != 0 }
    }

    /// The path a call on this thread takes now.
    public static var path: Path { Path(rawValue: swt_qgemm_path()) ?? .portable }

    /// The paths that may run on this thread, portable first.
    public static var availablePaths: [Path] { Path.allCases.filter(\.isAvailable) }

    /// The largest k whose sums cannot overflow int32 (k · 255 · 128 < 2³¹).
    public static let maxK = 65793

    /// Static partition of n columns into `parts` ranges (whole 16-column panels, spread
    /// evenly): range `index`, possibly empty. The integers do not depend on the split.
    public static func columnRange(n: Int, parts: Int, index: Int) -> Range<Int> {
        var n0: Int32 = 0, n1: Int32 = 0
        swt_qgemm_split(Int32(clamping: n), Int32(clamping: parts), Int32(clamping: index), &n0, &n1)
        return Int(n0)..<Int(n1)
    }
}

/// Why an int8 weight could not be packed.
public enum Int8GEMMError: Error, CustomStringConvertible, Equatable {
    /// n or k outside 1...Int32.max, or k above `Int8GEMM.maxK`.
    case badShape(n: Int, k: Int)
    /// The weight array does not hold n · k values.
    case countMismatch(expected: Int, actual: Int)

    public var description: String {
        switch self {
        case .badShape(let n, let k):
            return "int8 weight [\(n), \(k)]: n and k must be at least 1 and k at most \(Int8GEMM.maxK) " +
                "(larger k could overflow the int32 sums); split the layer's input dimension"
        case .countMismatch(let expected, let actual):
            return "int8 weight: expected \(expected) values (n x k), got \(actual); pass the weight row-major [n, k]"
        }
    }
}

/// Where the fused output stage of `PackedInt8Weight.gemm(..., output:)` writes: float rows
/// (stride `ld`), or uint8 rows quantized with `invScale` and `zeroPoint`.
public enum Int8Output {
    case float(UnsafeMutablePointer<Float>, ld: Int)
    case quantized(UnsafeMutablePointer<UInt8>, ld: Int, invScale: Float, zeroPoint: Int32)
}

/// An int8 weight W [n, k] (row-major, output unit first, as a dense layer's weight) packed
/// once into the layout every int8 GEMM path reads, with its column sums
/// `colsum[j] = Σₖ W[j, k]` (needed to remove the activations' zero point, see
/// `Int8Quantize.dequantize`). Immutable after init, so it may be shared across threads.
public final class PackedInt8Weight: @unchecked Sendable {
    /// Output units (rows of W, columns of C).
    public let n: Int
    /// Inputs (columns of W and of A).
    public let k: Int
    /// `colsum[j] = Σₖ W[j, k]`.
    public let colsum: [Int32]
    /// The packed bytes (`swt_qgemm_packed_bytes(n, k)`, 64-byte aligned).
    public let packed: UnsafeMutableRawBufferPointer

    /// Packs `weights` (row-major [n, k], `n * k` values).
    public convenience init(n: Int, k: Int, weights: UnsafeBufferPointer<Int8>) throws(Int8GEMMError) {
        try Self.validate(n: n, k: k, count: weights.count)
        self.init(validatedN: n, k: k) { dst, sums in swt_qgemm_pack(Int32(n), Int32(k), weights.baseAddress!, dst, sums) }
    }

    /// Packs `weights` (row-major [n, k]).
    public convenience init(n: Int, k: Int, weights: [Int8]) throws(Int8GEMMError) {
        try Self.validate(n: n, k: k, count: weights.count)
        self.init(validatedN: n, k: k) { dst, sums in
            weights.withUnsafeBufferPointer { swt_qgemm_pack(Int32(n), Int32(k), $0.baseAddress!, dst, sums) }
        }
    }

    private static func validate(n: Int, k: Int, count: Int) throws(Int8GEMMError) {
        guard n >= 1, k >= 1, n <= Int(Int32.max), k <= Int8GEMM.maxK else { throw .badShape(n: n, k: k) }
        guard count == n * k else { throw .countMismatch(expected: n * k, actual: count) }
    }

    private init(validatedN n: Int, k: Int, pack: (UnsafeMutablePointer<Int8>, UnsafeMutablePointer<Int32>) -> Void) {
        self.n = n
        self.k = k
        packed = .allocate(byteCount: swt_qgemm_packed_bytes(Int32(n), Int32(k)), alignment: 64)
        var sums = [Int32](repeating: 0, count: n)
        let dst = packed.baseAddress!.assumingMemoryBound(to: Int8.self)
        sums.withUnsafeMutableBufferPointer { pack(dst, $0.baseAddress!) }
        colsum = sums
    }

    deinit { packed.deallocate() }

    private var bytes: UnsafePointer<Int8> { UnsafePointer(packed.baseAddress!.assumingMemoryBound(to: Int8.self)) }

    private func check(m: Int, lda: Int, ldc: Int) {
        precondition(m >= 0 && m <= Int(Int32.max), "int8 gemm: m = \(m) must be in 0...Int32.max")
        precondition(lda >= k, "int8 gemm: lda = \(lda) must be at least k = \(k)")
        precondition(ldc >= n, "int8 gemm: ldc = \(ldc) must be at least n = \(n)")
    }

    /// C[m, n] (row stride `ldc`) = A[m, k] (row stride `lda`) · Wᵀ on the current path
    /// (`Int8GEMM.path`).
    public func gemm(m: Int, a: UnsafePointer<UInt8>, lda: Int, c: UnsafeMutablePointer<Int32>, ldc: Int) {
        check(m: m, lda: lda, ldc: ldc)
        swt_qgemm_u8s8(Int32(m), Int32(n), Int32(k), a, lda, bytes, c, ldc)
    }

    /// `gemm` on `path`, or the best available path below it; returns the path taken.
    @discardableResult
    public func gemm(m: Int, a: UnsafePointer<UInt8>, lda: Int, c: UnsafeMutablePointer<Int32>, ldc: Int,
                     path: Int8GEMM.Path) -> Int8GEMM.Path {
        check(m: m, lda: lda, ldc: ldc)
        let taken = swt_qgemm_u8s8_path(path.rawValue, Int32(m), Int32(n), Int32(k), a, lda, bytes, c, ldc)
        return Int8GEMM.Path(rawValue: taken) ?? .portable
    }

    /// `gemm` written through the fused output stage (`swt_qgemm_u8s8_out`): each sum
    /// dequantized as `Int8Quantize.dequantize` does (plus `bias`), then `relu` (`max(v, 0)`),
    /// then stored as `output`: float, or uint8 quantized as `Int8Quantize.quantize` with a next
    /// layer's static `invScale` and `zeroPoint` — bit for bit those three steps one after another.
    /// `scratch` is int32 room for C [m, ldc]. On `path` (or the best available below it), or the
    /// current path when nil; returns the path taken.
    @discardableResult
    public func gemm(m: Int, a: UnsafePointer<UInt8>, lda: Int, scratch: UnsafeMutablePointer<Int32>, ldc: Int,
                     aScale: UnsafePointer<Float>, aZero: UnsafePointer<Int32>, perRow: Bool, wScale: UnsafePointer<Float>,
                     bias: UnsafePointer<Float>?, relu: Bool, output: Int8Output, path: Int8GEMM.Path? = nil) -> Int8GEMM.Path {
        check(m: m, lda: lda, ldc: ldc)
        return colsum.withUnsafeBufferPointer { cs in
            var o = swt_qgemm_out(a_scale: aScale, a_zero: aZero, a_per_row: perRow ? 1 : 0, w_scale: wScale, colsum: cs.baseAddress!,
                                  bias: bias, relu: relu ? 1 : 0, y: nil, ldy: n, q: nil, ldq: n, q_inv_scale: 1, q_zero: 0)
            switch output {
            case .float(let y, let ldy):
                precondition(ldy >= n, "int8 gemm: ldy = \(ldy) must be at least n = \(n)")
                o.y = y; o.ldy = ldy
            case .quantized(let q, let ldq, let invScale, let zeroPoint):
                precondition(ldq >= n, "int8 gemm: ldq = \(ldq) must be at least n = \(n)")
                o.q = q; o.ldq = ldq; o.q_inv_scale = invScale; o.q_zero = zeroPoint
            }
            let want = path ?? Int8GEMM.path
            let taken = swt_qgemm_u8s8_out_path(want.rawValue, Int32(m), Int32(n), Int32(k), a, lda, bytes, scratch, ldc, &o)
            return Int8GEMM.Path(rawValue: taken) ?? .portable
        }
    }

    /// Columns `columns` of `gemm` only (other columns of C untouched): one thread's share
    /// when a pool splits n, e.g. by `Int8GEMM.columnRange(n:parts:index:)`.
    public func gemm(m: Int, a: UnsafePointer<UInt8>, lda: Int, c: UnsafeMutablePointer<Int32>, ldc: Int,
                     columns: Range<Int>) {
        check(m: m, lda: lda, ldc: ldc)
        precondition(columns.lowerBound >= 0 && columns.upperBound <= n, "int8 gemm: columns \(columns) outside 0..<\(n)")
        swt_qgemm_u8s8_cols(Int32(m), Int32(columns.lowerBound), Int32(columns.upperBound), Int32(k), a, lda, bytes, c, ldc)
    }
}

/// The float ↔ int8 conversions around the int8 GEMM (AVX-512 when `CPU` allows, else
/// portable C; the same bits on both). Rounding is to nearest even, one multiply, no FMA.
public enum Int8Quantize {
    /// Whether the conversions take their AVX-512 loops on this thread.
    public static var vectorized: Bool { swt_quantize_vectorized() != 0 }

    /// `q[i] = clamp(nearbyint(x[i] · invScale) + zeroPoint, 0, 255)`; NaN gives 0.
    public static func quantize(_ x: UnsafePointer<Float>, count: Int, invScale: Float, zeroPoint: Int32,
                                into q: UnsafeMutablePointer<UInt8>) {
        swt_quantize_u8(count, x, invScale, zeroPoint, q)
    }

    /// Per-row asymmetric quantization of X [m, k]: row i's range [min(0, min x), max(0, max x)]
    /// maps onto 0...255 with `scale[i] = (hi - lo) / 255` (1 for an all-zero row) and
    /// `zeroPoint[i] = clamp(nearbyint(-lo / scale), 0, 255)`.
    public static func quantizeRows(m: Int, k: Int, _ x: UnsafePointer<Float>, ldx: Int,
                                    into q: UnsafeMutablePointer<UInt8>, ldq: Int,
                                    scale: UnsafeMutablePointer<Float>, zeroPoint: UnsafeMutablePointer<Int32>) {
        precondition(m >= 0 && k >= 0 && ldx >= k && ldq >= k, "quantizeRows: bad shape m \(m) k \(k) ldx \(ldx) ldq \(ldq)")
        swt_quantize_rows_u8(Int32(m), Int32(k), x, ldx, q, ldq, scale, zeroPoint)
    }

    /// `y[i, j] = Float(c[i, j] - aZero[i] · colsum[j]) · (aScale[i] · wScale[j]) + bias[j]`
    /// (the product of scales rounded first, no FMA); `perRow`: aScale/aZero hold m entries,
    /// else one for all rows. `bias` may be nil.
    public static func dequantize(m: Int, n: Int, _ c: UnsafePointer<Int32>, ldc: Int,
                                  aScale: UnsafePointer<Float>, aZero: UnsafePointer<Int32>, perRow: Bool,
                                  wScale: UnsafePointer<Float>, colsum: UnsafePointer<Int32>,
                                  bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>, ldy: Int) {
        precondition(m >= 0 && n >= 0 && ldc >= n && ldy >= n, "dequantize: bad shape m \(m) n \(n) ldc \(ldc) ldy \(ldy)")
        swt_qgemm_dequant(Int32(m), Int32(n), c, ldc, aScale, aZero, perRow ? 1 : 0, wScale, colsum, bias, y, ldy)
    }
}
