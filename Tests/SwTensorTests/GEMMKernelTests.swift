import CGemm
import Testing
import SwTensor

/// swtrain's AVX-512 kernels (`CGemm`) against a Double re-computation, on random shapes with
/// tails in every dimension, padded leading dimensions, beta 0 (C holds NaN: write-only) and
/// beta 1, and C's padding columns checked bit for bit. Debug builds run the C at -O0, so the
/// shapes stay moderate.
@Suite struct GEMMKernelTests {
    /// Max |C - R| / max |R| allowed; float32 sums of up to ~1500 terms land near 1e-7.
    static let bound = 1e-5

    /// One random problem: C[m,n] = op(A) . op(B) + beta C, all row-major with padding
    /// (`transA`: A is stored k x m, the weight-gradient kernel; never with `transB`).
    struct Problem {
        let m, n, k, lda, ldb, ldc: Int
        let transB: Bool, beta: Float
        var transA = false
        var a: [Float], b: [Float], c: [Float]
        static let pad: Float = 12345.5   // C's padding columns must keep this exact value

        init(m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool, beta: Float, rng: inout RNG) {
            self.m = m; self.n = n; self.k = k; self.transA = transA; self.transB = transB; self.beta = beta
            lda = (transA ? m : k) + Int(rng.nextUInt32() % 5)
            ldb = (transB ? k : n) + Int(rng.nextUInt32() % 5)
            ldc = n + Int(rng.nextUInt32() % 5)
            a = (0..<((transA ? k : m) * lda)).map { _ in rng.uniform(-1, 1) }
            b = (0..<((transB ? n : k) * ldb)).map { _ in rng.uniform(-1, 1) }
            c = [Float](repeating: Self.pad, count: m * ldc)
            for i in 0..<m {
                for j in 0..<n { c[i * ldc + j] = beta == 0 ? .nan : rng.uniform(-1, 1) }
            }
        }

        /// The exact answer, in Double.
        func reference() -> [Double] {
            var r = [Double](repeating: 0, count: m * n)
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for p in 0..<k {
                        s += Double(transA ? a[p * lda + i] : a[i * lda + p]) * Double(transB ? b[j * ldb + p] : b[p * ldb + j])
                    }
                    r[i * n + j] = s + (beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j]))
                }
            }
            return r
        }

        mutating func runKernel() {
            let (m, n, k, lda, ldb, ldc) = (Int32(m), Int32(n), Int32(k), Int32(lda), Int32(ldb), Int32(ldc))
            let (transA, transB, beta, a, b) = (transA, transB, beta, a, b)
            c.withUnsafeMutableBufferPointer { c in
                if transA {
                    // B packed, then the kernel, prefetching A and B (any readable memory will
                    // do): the hint must not change C.
                    var packed = [Float](repeating: .nan, count: Int(swt_sgemm_tn_pack_size(k, n)))
                    swt_sgemm_tn_pack(k, n, b, ldb, &packed)
                    a.withUnsafeBufferPointer { ap in
                        b.withUnsafeBufferPointer { bp in
                            let targets: [UnsafePointer<Float>?] = [ap.baseAddress, bp.baseAddress]
                            swt_sgemm_tn(m, n, k, ap.baseAddress, lda, packed, c.baseAddress, ldc, beta,
                                         targets, 2, min(ap.count, bp.count))
                        }
                    }
                } else if transB {
                    swt_sgemm_nt(m, n, k, a, lda, b, ldb, c.baseAddress, ldc, beta)
                } else {
                    swt_sgemm_nn(m, n, k, a, lda, b, ldb, c.baseAddress, ldc, beta)
                }
            }
        }

        /// Max |C - R| / max |R| over the m x n block (infinite if C has a NaN).
        func relativeError(_ r: [Double]) -> Double {
            var err = 0.0, scale = 0.0
            for i in 0..<m {
                for j in 0..<n {
                    let x = Double(c[i * ldc + j]), y = r[i * n + j]
                    err = x.isNaN ? .infinity : max(err, abs(x - y))
                    scale = max(scale, abs(y))
                }
            }
            return err / max(scale, 1e-30)
        }

        /// Whether every padding column of C still holds `pad`, bit for bit.
        var paddingUntouched: Bool {
            (0..<m).allSatisfy { i in (n..<ldc).allSatisfy { c[i * ldc + $0].bitPattern == Self.pad.bitPattern } }
        }
    }

    /// Random (m, n, k) covering full tiles and tails: the forward tile is 4 x 6 (edges up to
    /// 4 x 8), the NN tile 8 x 48, K blocks 1024 (NT) and 256 (NN); NT with k <= 128 (or <= 512
    /// at m >= 128) takes the transpose path, (129, 20, 500) over two NN K blocks, (128, 7, 513)
    /// just past it on the dot tile.
    static func shapes(seed: UInt64) -> [(Int, Int, Int)] {
        var rng = RNG(seed: seed)
        func r(_ lo: Int, _ hi: Int) -> Int { lo + Int(rng.nextUInt32() % UInt32(hi - lo + 1)) }
        var s: [(Int, Int, Int)] = [(1, 1, 1), (4, 6, 16), (8, 48, 256), (3, 5, 17), (9, 49, 257), (1, 1, 1025)]
        for _ in 0..<24 { s.append((r(1, 21), r(1, 70), r(1, 300))) }
        for _ in 0..<3 { s.append((r(1, 6), r(1, 14), r(1020, 1300))) }
        s.append((130, 20, 200)); s.append((128, 33, 129)); s.append((129, 20, 500)); s.append((128, 7, 513))
        return s
    }

    @Test(arguments: [("nt", Float(0)), ("nt", 1), ("nn", 0), ("nn", 1), ("tn", 0), ("tn", 1)])
    func kernelMatchesDoubleReference(kind: String, beta: Float) {
        guard swt_gemm_available() != 0 else { return }
        var rng = RNG(seed: kind == "nt" ? 21 : kind == "nn" ? 22 : 23)
        for (m, n, k) in Self.shapes(seed: beta == 0 ? 5 : 6) {
            var p = Problem(m: m, n: n, k: k, transA: kind == "tn", transB: kind == "nt", beta: beta, rng: &rng)
            let ref = p.reference()
            p.runKernel()
            let e = p.relativeError(ref)
            #expect(e <= Self.bound, "\(kind) m \(m) n \(n) k \(k) lda \(p.lda) ldb \(p.ldb) ldc \(p.ldc) beta \(beta): error \(e)")
            #expect(p.paddingUntouched, "padding of C written: m \(m) n \(n) ldc \(p.ldc)")
        }
    }

    /// The bound is tight enough to catch a single wrong element (or a dropped beta C term).
    @Test func errorBoundCanFail() {
        var rng = RNG(seed: 9)
        var p = Problem(m: 5, n: 7, k: 64, transB: true, beta: 1, rng: &rng)
        let ref = p.reference()
        for i in 0..<p.m { for j in 0..<p.n { p.c[i * p.ldc + j] = Float(ref[i * p.n + j]) } }
        #expect(p.relativeError(ref) <= Self.bound)
        p.c[2 * p.ldc + 3] *= 1 + 1e-4
        #expect(p.relativeError(ref) > Self.bound)
    }

    /// `BLAS.gemmTN` (B packed for the kernel, or in place for OpenBLAS when the kernels are
    /// off), with and without prefetch targets.
    @Test(arguments: [false, true])
    func blasGemmTN(prefetching: Bool) {
        let m = 16, n = 1030, k = 45
        var rng = RNG(seed: 32)
        var p = Problem(m: m, n: n, k: k, transA: true, transB: false, beta: 0, rng: &rng)
        let ref = p.reference()
        var b = p.b
        if let count = BLAS.packedCountForGemmTN(k: k, n: n) {
            var packed = [Float](repeating: 0, count: count)
            BLAS.packForGemmTN(k: k, n: n, b: b, ldb: p.ldb, into: &packed)
            b = packed
        }
        let a = p.a
        a.withUnsafeBufferPointer { ap in
            let targets: [UnsafePointer<Float>?] = [ap.baseAddress]
            p.c.withUnsafeMutableBufferPointer { c in
                BLAS.gemmTN(m: m, n: n, k: k, a: ap.baseAddress!, lda: p.lda, b: b, ldb: p.ldb,
                            c: c.baseAddress!, ldc: p.ldc, prefetch: prefetching ? targets : nil,
                            prefetchPointers: prefetching ? 1 : 0, prefetchCount: ap.count)
            }
        }
        #expect(p.relativeError(ref) <= Self.bound)
        #expect(p.paddingUntouched)
    }

    /// A dense-layer shape that `BLAS.gemm` routes to the kernels gives the same answer.
    @Test(arguments: [true, false])
    func blasGemmDenseShape(transB: Bool) {
        let m = 12, n = 130, k = 136
        var rng = RNG(seed: 31)
        var p = Problem(m: m, n: n, k: k, transB: transB, beta: 1, rng: &rng)
        let ref = p.reference()
        let (a, b) = (p.a, p.b)
        p.c.withUnsafeMutableBufferPointer { c in
            BLAS.gemm(transA: false, transB: transB, m: m, n: n, k: k, a: a, lda: p.lda, b: b, ldb: p.ldb,
                      beta: 1, c: c.baseAddress!, ldc: p.ldc)
        }
        #expect(p.relativeError(ref) <= Self.bound)
        #expect(p.paddingUntouched)
    }

    /// `swt_sgemm_blocked` with a bias row (a dense layer's forward, `BLAS.gemmAddingBias`):
    /// the bits of C filled with the bias rows and the call with beta 1, on every path the
    /// product can take: short-K `A Bᵀ` on the NN tile over Bᵀ, long-K `A Bᵀ` on the dot
    /// tile (one and two K blocks of 1024), `A B` over several K blocks of 256; rows and
    /// columns off the tiles (8 x 48, 4 x 6), one block or blocks of 64 rows x 192 columns;
    /// right against Double, C's padding untouched.
    @Test(arguments: [(37, 130, 100, true), (150, 70, 200, true), (9, 50, 1100, true), (20, 13, 300, true),
                      (37, 130, 600, false), (5, 200, 40, false)])
    func blockedBiasIsFillThenBetaOneBits(shape: (Int, Int, Int, Bool)) {
        guard swt_gemm_available() != 0 else { return }
        let (m, n, k, transB) = shape
        var rng = RNG(seed: 47)
        var p = Problem(m: m, n: n, k: k, transB: transB, beta: 1, rng: &rng)
        let bias = (0..<n).map { _ in rng.uniform(-2, 2) }
        for i in 0..<m { for j in 0..<n { p.c[i * p.ldc + j] = bias[j] } }
        let ref = p.reference()
        let filled = p.c
        for (rb, cb) in [(m, n), (64, 192)] {
            var plain = filled, fused = filled
            for i in 0..<m { for j in 0..<n { fused[i * p.ldc + j] = .nan } }   // write-only
            swt_sgemm_blocked(transB ? 1 : 0, Int32(m), Int32(n), Int32(k), p.a, Int32(p.lda), p.b, Int32(p.ldb),
                              &plain, Int32(p.ldc), 1, nil, Int32(rb), Int32(cb))
            swt_sgemm_blocked(transB ? 1 : 0, Int32(m), Int32(n), Int32(k), p.a, Int32(p.lda), p.b, Int32(p.ldb),
                              &fused, Int32(p.ldc), 0, bias, Int32(rb), Int32(cb))
            #expect(fused.map(\.bitPattern) == plain.map(\.bitPattern), "\(shape), blocks \(rb) x \(cb)")
            p.c = fused
            #expect(p.relativeError(ref) <= Self.bound, "\(shape)")
            #expect(p.paddingUntouched)
        }
    }

    /// `swt_sgemm_tn_blocked` reads B in place when its rows are short (ldb <= 512) and many
    /// (k >= 1024) and packs it otherwise: the same tiles in the same order, so the same bits
    /// either way (the same B stored with ldb n and with ldb 600), and right against Double.
    /// Edge strips (n not a multiple of 48 or 16), one row of C, K over several blocks of 256
    /// with a short last one; (9, 200, 64) packs both times.
    @Test(arguments: [(1, 33, 1100), (16, 130, 1500), (40, 48, 1030), (9, 200, 64), (130, 7, 1025)])
    func tnBlockedInPlaceMatchesPacked(shape: (Int, Int, Int)) {
        guard swt_gemm_available() != 0 else { return }
        let (m, n, k) = shape
        var rng = RNG(seed: 41)
        var p = Problem(m: m, n: n, k: k, transA: true, transB: false, beta: 1, rng: &rng)
        let ref = p.reference()
        let wide = 600
        var bWide = [Float](repeating: .nan, count: k * wide)
        for r in 0..<k { for j in 0..<n { bWide[r * wide + j] = p.b[r * p.ldb + j] } }
        let c0 = p.c
        func run(_ b: [Float], _ ldb: Int) -> [Float] {
            var c = c0
            swt_sgemm_tn_blocked(Int32(m), Int32(n), Int32(k), p.a, Int32(p.lda), b, Int32(ldb), &c, Int32(p.ldc), 1, 64, nil)
            return c
        }
        let inPlace = run(p.b, p.ldb), packed = run(bWide, wide)
        #expect(inPlace.map(\.bitPattern) == packed.map(\.bitPattern), "\(shape)")
        p.c = inPlace
        #expect(p.relativeError(ref) <= Self.bound, "\(shape)")
        #expect(p.paddingUntouched)
    }

    /// The column sums `swt_sgemm_tn_blocked` adds while it packs A (a dense layer's bias
    /// gradient): the bits of the plain loop that adds A's rows one by one into the old sums,
    /// with M not a multiple of the 8-column tiles nor of the 64-row task
    /// blocks and K over several blocks of 256 with a short last one; C the bits of the call
    /// without sums.
    @Test(arguments: [(1, 33, 1100), (70, 130, 1030), (133, 20, 600)])
    func tnBlockedColumnSumsArePlainLoopBits(shape: (Int, Int, Int)) {
        guard swt_gemm_available() != 0 else { return }
        let (m, n, k) = shape
        var rng = RNG(seed: 43)
        let p = Problem(m: m, n: n, k: k, transA: true, transB: false, beta: 1, rng: &rng)
        let sums0 = (0..<m).map { _ in rng.uniform(-3, 3) }
        var expected = sums0
        for r in 0..<k { for i in 0..<m { expected[i] += p.a[r * p.lda + i] } }
        var plainC = p.c
        swt_sgemm_tn_blocked(Int32(m), Int32(n), Int32(k), p.a, Int32(p.lda), p.b, Int32(p.ldb), &plainC, Int32(p.ldc), 1, 64, nil)
        do {   // at the pool's threads as they are: other suites run alongside and set them
            var c = p.c, sums = sums0 + [Float](repeating: 7.5, count: 9)   // past m: untouched
            sums.withUnsafeMutableBufferPointer { sp in
                swt_sgemm_tn_blocked(Int32(m), Int32(n), Int32(k), p.a, Int32(p.lda), p.b, Int32(p.ldb), &c, Int32(p.ldc), 1, 64, sp.baseAddress)
            }
            #expect(Array(sums[..<m]).map(\.bitPattern) == expected.map(\.bitPattern), "\(shape)")
            #expect(sums[m...].allSatisfy { $0 == 7.5 }, "\(shape)")
            #expect(c.map(\.bitPattern) == plainC.map(\.bitPattern), "\(shape)")
        }
    }

    /// The pack of B for the TN kernel: strips of 48 columns, zero-padded, the same bytes at
    /// 1, 2 and 3 threads (large B is packed over the pool in chunks of rows).
    @Test(arguments: [(700, 130), (5, 50), (300, 1030)])
    func tnPackLayoutAtAnyThreads(shape: (Int, Int)) {
        guard swt_gemm_available() != 0 else { return }
        ThreadPool.exclusive {
            let (k, n) = shape, ldb = n + 3
            var rng = RNG(seed: 42)
            let b = (0..<(k * ldb)).map { _ in rng.uniform(-1, 1) }
            let count = Int(swt_sgemm_tn_pack_size(Int32(k), Int32(n)))
            var expected = [Float](repeating: 0, count: count)
            for s in 0..<((n + 47) / 48) {
                for r in 0..<k {
                    for c in 0..<48 where s * 48 + c < n { expected[s * 48 * k + r * 48 + c] = b[r * ldb + s * 48 + c] }
                }
            }
            for threads in [1, 2, 3] {
                ThreadPool.setThreads(threads)
                var packed = [Float](repeating: .nan, count: count)
                swt_sgemm_tn_pack(Int32(k), Int32(n), b, Int32(ldb), &packed)
                #expect(packed.map(\.bitPattern) == expected.map(\.bitPattern), "\(shape), \(threads) threads")
            }
        }
    }

    /// A weight under 16 K elements runs on the kernels only in a tall product (a GPT's
    /// vocabulary head over B·T rows).
    @Test func tallSmallWeightRouting() {
        // On the portable path (SWTRAIN_KERNELS=portable) every product goes to OpenBLAS.
        guard swt_gemm_available() != 0, swt_gemm_enabled() != 0 else { return }
        #expect(BLAS.gemmPath(transA: false, transB: true, m: 8192, n: 96, k: 128).hasPrefix("swt_sgemm_blocked nt"))
        #expect(BLAS.gemmPath(transA: false, transB: false, m: 8192, n: 128, k: 96).hasPrefix("swt_sgemm_blocked nn"))
        #expect(BLAS.gemmPath(transA: false, transB: true, m: 4095, n: 96, k: 128) == "cblas_sgemm")
        #expect(BLAS.gemmPath(transA: false, transB: false, m: 8192, n: 10, k: 128) == "cblas_sgemm")
    }

    /// An input-gradient product `A B` with a weight of 8-16 K elements (n, k >= 16) runs on
    /// the NN kernel at any row count (the MNIST-1D MLP's 100 x 100 layer at batch 100-128);
    /// its forward `A Bᵀ`, a smaller weight, and a 10-row weight (k = 10) stay with OpenBLAS.
    @Test func smallWeightInputGradientRouting() {
        guard swt_gemm_available() != 0, swt_gemm_enabled() != 0 else { return }
        #expect(BLAS.gemmPath(transA: false, transB: false, m: 128, n: 100, k: 100).hasPrefix("swt_sgemm_blocked nn"))
        #expect(BLAS.gemmPath(transA: false, transB: false, m: 1, n: 128, k: 64).hasPrefix("swt_sgemm_blocked nn"))
        #expect(BLAS.gemmPath(transA: false, transB: true, m: 128, n: 100, k: 100) == "cblas_sgemm")
        #expect(BLAS.gemmPath(transA: false, transB: false, m: 128, n: 100, k: 80) == "cblas_sgemm")
        #expect(BLAS.gemmPath(transA: false, transB: false, m: 128, n: 1000, k: 10) == "cblas_sgemm")
        #expect(BLAS.gemmPath(transA: false, transB: false, m: 128, n: 10, k: 1000) == "cblas_sgemm")
    }
}
