import CGemm
import Testing
import SwTensor

/// The bf16 GEMM (`BF16GEMM`, `csbgemm.h`) against a Double re-computation of the same
/// bf16-rounded operands, on odd shapes (m = 1, odd k, n not a multiple of 16 or 32, padded
/// leading dimensions) in all four layouts; every available path bit for bit against the
/// portable loop; bit-identical at 1, 2 and 3 threads; and the packing's rounding against the
/// independent Double rounding of `SmallFloat`.
@Suite struct BF16GEMMTests {
    struct Problem {
        let m, n, k, lda, ldb, ldc: Int
        let transA, transB: Bool
        let alpha, beta: Float
        var a: [Float], b: [Float], c: [Float]
        static let pad: Float = 12345.5   // C's padding columns must keep this exact value

        init(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, alpha: Float = 1, beta: Float, rng: inout RNG) {
            self.m = m; self.n = n; self.k = k; self.transA = transA; self.transB = transB
            self.alpha = alpha; self.beta = beta
            lda = (transA ? m : k) + Int(rng.nextUInt32() % 4)
            ldb = (transB ? k : n) + Int(rng.nextUInt32() % 4)
            ldc = n + Int(rng.nextUInt32() % 4)
            a = (0..<((transA ? k : m) * lda)).map { _ in rng.uniform(-1, 1) }
            b = (0..<((transB ? n : k) * ldb)).map { _ in rng.uniform(-1, 1) }
            c = [Float](repeating: Self.pad, count: m * ldc)
            for i in 0..<m {
                for j in 0..<n { c[i * ldc + j] = beta == 0 ? .nan : rng.uniform(-1, 1) }
            }
        }

        func opA(_ i: Int, _ p: Int) -> Float { transA ? a[p * lda + i] : a[i * lda + p] }
        func opB(_ p: Int, _ j: Int) -> Float { transB ? b[j * ldb + p] : b[p * ldb + j] }

        /// The exact result of the bf16-rounded operands, in Double, and the sum of the
        /// magnitudes of its terms (the scale of the fp32 accumulation's rounding).
        func reference() -> (value: [Double], magnitude: [Double]) {
            var r = [Double](repeating: 0, count: m * n), s = r
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0, mag = 0.0
                    for p in 0..<k {
                        let t = Double(BFloat16(opA(i, p)).float) * Double(BFloat16(opB(p, j)).float)
                        sum += t; mag += abs(t)
                    }
                    let old = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                    r[i * n + j] = Double(alpha) * sum + old
                    s[i * n + j] = abs(Double(alpha)) * mag + abs(old)
                }
            }
            return (r, s)
        }

        /// C after one call on `path` (the problem itself is left unchanged).
        func run(_ path: BF16GEMM.Path) -> [Float] {
            var out = c
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    out.withUnsafeMutableBufferPointer { c in
                        BF16GEMM.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                      a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb, beta: beta,
                                      c: c.baseAddress!, ldc: ldc, path: path)
                    }
                }
            }
            return out
        }

        /// Checks C against the reference: each element within (k + 2) 2^-24 of its terms'
        /// magnitude (the bound of k + 1 fp32 additions), padding untouched.
        func check(_ out: [Float], _ label: String) {
            let (r, s) = reference()
            var worst = 0.0
            for i in 0..<m {
                for j in 0..<n {
                    let x = Double(out[i * ldc + j]), y = r[i * n + j]
                    let bound = Double(k + 2) * 0x1p-24 * s[i * n + j] + 1e-30
                    worst = x.isNaN ? .infinity : max(worst, abs(x - y) / bound)
                }
                for j in n..<ldc { #expect(out[i * ldc + j] == Self.pad, "\(label): padding changed") }
            }
            #expect(worst <= 1, "\(label): error \(worst) x the fp32 accumulation bound")
        }
    }

    static let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (1, 17, 3), (1, 40, 64), (2, 33, 7), (13, 31, 1), (12, 32, 2), (25, 65, 129), (50, 100, 37),
        (49, 257, 16), (7, 300, 200),
    ]

    @Test(arguments: [BF16GEMM.Path.portable, .avx512bf16].filter(\.isAvailable))
    func againstDoubleReference(path: BF16GEMM.Path) {
        var rng = RNG(seed: 19)
        for s in Self.shapes {
            for (transA, transB) in [(false, true), (false, false), (true, false), (true, true)] {
                for (alpha, beta) in [(Float(1), Float(0)), (1, 1), (0.5, -2)] {
                    let p = Problem(m: s.m, n: s.n, k: s.k, transA: transA, transB: transB, alpha: alpha, beta: beta, rng: &rng)
                    p.check(p.run(path), "\(path) \(s) tA \(transA) tB \(transB) alpha \(alpha) beta \(beta)")
                }
            }
        }
    }

    /// Every path gives the portable loop's bits on data whose sums stay normal.
    @Test func pathsBitIdentical() {
        var rng = RNG(seed: 5)
        for s in Self.shapes {
            for (transA, transB) in [(false, true), (false, false), (true, false)] {
                let p = Problem(m: s.m, n: s.n, k: s.k, transA: transA, transB: transB, beta: 1, rng: &rng)
                let portable = p.run(.portable)
                for path in BF16GEMM.availablePaths where path != .portable {
                    #expect(p.run(path) == portable, "\(path) \(s) tA \(transA) tB \(transB)")
                }
            }
        }
    }

    @Test func bitIdenticalAcrossThreads() {
        ThreadPool.exclusive {
            var rng = RNG(seed: 8)
            let problems = [Problem(m: 130, n: 300, k: 77, transA: false, transB: true, beta: 0, rng: &rng),
                            Problem(m: 97, n: 520, k: 64, transA: true, transB: false, beta: 1, rng: &rng),
                            Problem(m: 1, n: 1000, k: 33, transA: false, transB: false, beta: 0, rng: &rng)]
            for path in BF16GEMM.availablePaths where path != .amx {
                ThreadPool.setThreads(1)
                let one = problems.map { $0.run(path) }
                for threads in [2, 3] {
                    ThreadPool.setThreads(threads)
                    #expect(problems.map { $0.run(path) } == one, "\(path): \(threads) threads differ from 1")
                }
            }
        }
    }

    @Test func portableSwitchAndAMXAbsent() {
        #expect(!BF16GEMM.Path.amx.isAvailable)
        #expect(CPU.withKernelPath(.portable) { BF16GEMM.path } == .portable)
        let vector = CPU.has([.avx512f, .avx512bw, .avx512vl, .avx512bf16])
        #expect(BF16GEMM.Path.avx512bf16.isAvailable == vector)
        if CPU.kernelPath == .native { #expect(BF16GEMM.path == (vector ? .avx512bf16 : .portable)) }
    }

    /// K = 0: C = beta C.
    @Test func emptyK() {
        var c: [Float] = [1, 2, 3, .nan]
        let a: [Float] = [0], b: [Float] = [0]
        BF16GEMM.gemm(transA: false, transB: true, m: 1, n: 2, k: 0, a: a, b: b, beta: 2, c: &c)
        BF16GEMM.gemm(transA: false, transB: true, m: 1, n: 2, k: 0, a: a, b: b, beta: 0, c: &c[2])
        #expect(c[0] == 2 && c[1] == 4 && c[2] == 0 && c[3] == 0)
    }

    /// The packing rounds every element as `SmallFloat.bf16` does in Double (NaN: stays NaN,
    /// quiet, sign kept), with k contiguous and with rows contiguous (by groups and by pairs),
    /// on both paths; the random bits put subnormals in some vectors and not in others.
    @Test func packingRoundsToNearestEven() {
        var values: [Float] = [0, -0, 1, -1, .infinity, -.infinity, .nan, -.nan, Float(bitPattern: 0x7F80_0001),
                               .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNormalMagnitude,
                               .leastNonzeroMagnitude, Float(bitPattern: 0x007F_FFFF), Float(bitPattern: 0x0000_8000),
                               Float(bitPattern: 0x0001_8000), Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000),
                               Float(bitPattern: 0x3F80_8001), Float(bitPattern: 0x7F7F_8000), Float(bitPattern: 0xBF80_7FFF)]
        var rng = RNG(seed: 3)
        let (R, K) = (23, 45)   // odd: a zero-padded last pair, partial groups of 12 and 32 rows, 23 pairs
        while values.count < R * K { values.append(Float(bitPattern: rng.nextUInt32())) }
        for width in [12, 32] {
            let words = Int(swt_sbgemm_packed_words(Int32(R), Int32(K), Int32(width)))
            for (rs, ks) in [(K, 1), (1, R)] {
                // By pairs: how swt_sbgemm packs an op(B) with rows contiguous (same words).
                for path in BF16GEMM.availablePaths where path != .amx {
                  for byPairs in rs == 1 ? [false, true] : [false] {
                    var packed = [UInt32](repeating: 0xDEAD_BEEF, count: words)
                    if byPairs {
                        swt_sbgemm_pack_by_pairs(path.rawValue, Int32(R), Int32(K), values, ks, Int32(width), &packed)
                    } else {
                        swt_sbgemm_pack(path.rawValue, Int32(R), Int32(K), values, rs, ks, Int32(width), &packed)
                    }
                    let pairs = (K + 1) / 2
                    for g in 0..<(R + width - 1) / width {
                        for p in 0..<pairs {
                            for c in 0..<width {
                                let word = packed[(g * pairs + p) * width + c], r = g * width + c
                                for half in 0..<2 {
                                    let bits = UInt16(truncatingIfNeeded: word >> (16 * half)), kk = 2 * p + half
                                    guard r < R, kk < K else {
                                        #expect(bits == 0, "width \(width) rs \(rs) \(path): padding at \(r), \(kk)")
                                        continue
                                    }
                                    let x = values[r * rs + kk * ks]
                                    if x.isNaN {
                                        let sign = UInt16(x.bitPattern >> 16) & 0x8000
                                        #expect(bits & 0x7FC0 == 0x7FC0 && bits & 0x8000 == sign, "NaN \(x.bitPattern)")
                                    } else {
                                        #expect(bits == SmallFloat.bf16.round(x),
                                                "width \(width) rs \(rs) \(path): \(x.bitPattern) -> \(bits)")
                                    }
                                }
                            }
                        }
                    }
                  }
                }
            }
        }
    }
}
