import CCPU
import Testing
import SwTensor

/// The fused output stage of the int8 GEMM (`PackedInt8Weight.gemm(..., output:)`): on every
/// path, bit for bit the separate steps — the portable GEMM, `Int8Quantize.dequantize`, a relu
/// as the `relu` layer computes it (`max(v, 0)`) and `Int8Quantize.quantize` — for float and
/// uint8 outputs, per-row and per-tensor activations, with and without bias and relu, k past
/// one k block (1024), m = 1 and n = 1; including a NaN bias (relu keeps NaN, uint8 gets 0) and
/// a negative weight scale.
@Suite struct Int8OutputStageTests {
    struct Case {
        let m, n, k: Int
        let a: [UInt8], w: [Int8]
        let aScale: [Float], aZero: [Int32], wScale: [Float], bias: [Float]

        init(m: Int, n: Int, k: Int, rng: inout RNG) {
            self.m = m; self.n = n; self.k = k
            a = (0..<(m * k)).map { _ in UInt8(truncatingIfNeeded: rng.nextUInt32()) }
            w = (0..<(n * k)).map { _ in Int8(truncatingIfNeeded: rng.nextUInt32() % 255) &- 127 }
            aScale = (0..<m).map { _ in rng.uniform() * 0.02 + 1e-4 }
            aZero = (0..<m).map { _ in Int32(rng.nextUInt32() % 256) }
            var ws = (0..<n).map { _ in rng.uniform() * 0.002 + 1e-5 }
            var b = (0..<n).map { _ in 4 * rng.uniform() - 2 }
            if n > 2 { ws[1] = -ws[1]; b[2] = .nan }
            wScale = ws; bias = b
        }
    }

    /// The separate steps: float `y` and uint8 `q` (for `inv`, `zp`).
    static func reference(_ c: Case, _ weight: PackedInt8Weight, perRow: Bool, bias: Bool, relu: Bool,
                          inv: Float, zp: Int32) -> (y: [UInt32], q: [UInt8]) {
        var acc = [Int32](repeating: 0, count: c.m * c.n)
        var y = [Float](repeating: 0, count: c.m * c.n)
        c.a.withUnsafeBufferPointer { ap in
            acc.withUnsafeMutableBufferPointer { weight.gemm(m: c.m, a: ap.baseAddress!, lda: c.k, c: $0.baseAddress!, ldc: c.n, path: .portable) }
        }
        c.bias.withUnsafeBufferPointer { bp in
            Int8Quantize.dequantize(m: c.m, n: c.n, acc, ldc: c.n, aScale: c.aScale, aZero: c.aZero, perRow: perRow,
                                    wScale: c.wScale, colsum: weight.colsum, bias: bias ? bp.baseAddress : nil, into: &y, ldy: c.n)
        }
        if relu { y = y.map { max($0, 0) } }
        var q = [UInt8](repeating: 0, count: y.count)
        Int8Quantize.quantize(y, count: y.count, invScale: inv, zeroPoint: zp, into: &q)
        return (y.map(\.bitPattern), q)
    }

    @Test func fusedStageEqualsTheSeparateStepsOnEveryPath() throws {
        var rng = RNG(seed: 21)
        let shapes = [(1, 1, 1), (1, 1024, 40), (1, 70, 1100), (5, 10, 1024), (7, 33, 67), (13, 17, 1030), (37, 48, 130), (2, 100, 5)]
        for (m, n, k) in shapes {
            let c = Case(m: m, n: n, k: k, rng: &rng)
            let weight = try PackedInt8Weight(n: n, k: k, weights: c.w)
            let (inv, zp) = (Float(1) / (rng.uniform() * 0.5 + 0.01), Int32(rng.nextUInt32() % 256))
            for perRow in [true, false] {
                for (bias, relu) in [(true, true), (true, false), (false, true), (false, false)] {
                    let ref = Self.reference(c, weight, perRow: perRow, bias: bias, relu: relu, inv: inv, zp: zp)
                    for path in Int8GEMM.availablePaths {
                        for vectorStage in [false, true] {   // the output stage's own AVX-512 / scalar choice
                            var scratch = [Int32](repeating: 0, count: m * n)
                            var y = [Float](repeating: -7, count: m * n)
                            var q = [UInt8](repeating: 7, count: m * n)
                            let body = {
                                c.bias.withUnsafeBufferPointer { bp in
                                    y.withUnsafeMutableBufferPointer { yp in
                                        q.withUnsafeMutableBufferPointer { qp in
                                            for out in [Int8Output.float(yp.baseAddress!, ld: n),
                                                        .quantized(qp.baseAddress!, ld: n, invScale: inv, zeroPoint: zp)] {
                                                let taken = weight.gemm(m: m, a: c.a, lda: k, scratch: &scratch, ldc: n, aScale: c.aScale, aZero: c.aZero,
                                                                        perRow: perRow, wScale: c.wScale, bias: bias ? bp.baseAddress : nil,
                                                                        relu: relu, output: out, path: path)
                                                #expect(taken == path || !vectorStage)
                                            }
                                        }
                                    }
                                }
                            }
                            if vectorStage { body() } else { CPU.withKernelPath(.portable, body) }
                            let where_ = "\(path) vector \(vectorStage) m \(m) n \(n) k \(k) perRow \(perRow) bias \(bias) relu \(relu)"
                            #expect(y.map(\.bitPattern) == ref.y, "float output, \(where_)")
                            #expect(q == ref.q, "uint8 output, \(where_)")
                        }
                    }
                }
            }
        }
    }
}
