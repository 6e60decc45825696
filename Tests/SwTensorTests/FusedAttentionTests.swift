import Foundation
import Testing
import SwTensor

/// The fused causal attention kernels (`FusedAttention`) against a Double re-computation of
/// softmax attention (and its gradient), with and without dropout (the reference applies the
/// kernels' own hash mask), on both kernel paths, and bit-identical across threads.
@Suite(.serialized) struct FusedAttentionTests {
    struct Case {
        let B, H, T, C: Int
        var qkv: [Float], dOut: [Float]
        init(B: Int, H: Int, T: Int, C: Int, seed: UInt64) {
            (self.B, self.H, self.T, self.C) = (B, H, T, C)
            var rng = RNG(seed: seed)
            qkv = (0..<(B * T * 3 * C)).map { _ in rng.uniform(-1.5, 1.5) }
            dOut = (0..<(B * T * C)).map { _ in rng.uniform(-1, 1) }
        }

        /// (out, dQKV) in Double.
        func reference(dropout p: Float, seed: UInt32) -> ([Double], [Double]) {
            let d = C / H, scale = 1 / Double(d).squareRoot()
            var out = [Double](repeating: 0, count: B * T * C), dq = [Double](repeating: 0, count: B * T * 3 * C)
            func at(_ b: Int, _ t: Int, _ part: Int, _ h: Int, _ e: Int) -> Int { (b * T + t) * 3 * C + part * C + h * d + e }
            for b in 0..<B {
                for h in 0..<H {
                    var P = [[Double]](repeating: [Double](repeating: 0, count: T), count: T), M = P
                    for i in 0..<T {
                        var s = (0...i).map { j in (0..<d).reduce(0.0) { $0 + Double(qkv[at(b, i, 0, h, $1)]) * Double(qkv[at(b, j, 1, h, $1)]) } * scale }
                        let mx = s.max()!
                        s = s.map { exp($0 - mx) }
                        let z = s.reduce(0, +)
                        for j in 0...i {
                            P[i][j] = s[j] / z
                            let index = ((b * H + h) * T + i) * T + j
                            M[i][j] = p == 0 ? 1 : (FusedAttention.keeps(seed: seed, index: index, dropout: p) ? 1 / (1 - Double(p)) : 0)
                        }
                        for e in 0..<d {
                            out[(b * T + i) * C + h * d + e] = (0...i).reduce(0.0) { $0 + P[i][$1] * M[i][$1] * Double(qkv[at(b, $1, 2, h, e)]) }
                        }
                    }
                    for i in 0..<T {
                        let g = (0..<d).map { Double(dOut[(b * T + i) * C + h * d + $0]) }
                        let dP = (0...i).map { j in M[i][j] * (0..<d).reduce(0.0) { $0 + g[$1] * Double(qkv[at(b, j, 2, h, $1)]) } }
                        let D = (0...i).reduce(0.0) { $0 + P[i][$1] * dP[$1] }
                        for j in 0...i {
                            let ds = P[i][j] * (dP[j] - D) * scale
                            for e in 0..<d {
                                dq[at(b, i, 0, h, e)] += ds * Double(qkv[at(b, j, 1, h, e)])
                                dq[at(b, j, 1, h, e)] += ds * Double(qkv[at(b, i, 0, h, e)])
                                dq[at(b, j, 2, h, e)] += P[i][j] * M[i][j] * g[e]
                            }
                        }
                    }
                }
            }
            return (out, dq)
        }

        func run(dropout: Float, seed: UInt32) -> (out: [Float], dQKV: [Float]) {
            var out = [Float](repeating: .nan, count: B * T * C), lse = [Float](repeating: .nan, count: B * H * T)
            var dq = [Float](repeating: .nan, count: B * T * 3 * C)
            FusedAttention.forward(batch: B, heads: H, context: T, width: C, qkv: qkv, out: &out, lse: &lse,
                                   dropout: dropout, seed: seed)
            FusedAttention.backward(batch: B, heads: H, context: T, width: C, qkv: qkv, out: out, dOut: dOut,
                                    lse: lse, dQKV: &dq, dropout: dropout, seed: seed)
            return (out, dq)
        }
    }

    static func maxError(_ a: [Float], _ r: [Double]) -> Double {
        zip(a, r).reduce(0.0) { max($0, abs(Double($1.0) - $1.1)) } / max(r.reduce(0.0) { max($0, abs($1)) }, 1e-30)
    }

    /// Forward and backward within 2e-6 of the largest value (relative to max |reference|):
    /// float32 sums over at most T keys and d features, with exp within 3e-7. The shapes cover
    /// every remainder of T modulo the kernels' row groups (4 queries forward, 2 backward) and
    /// key blocks (16), whole and partial, and heads of 16 to 128 features.
    @Test(arguments: [(2, 2, 37, 32, Float(0)), (1, 3, 20, 48, Float(0)), (2, 2, 37, 32, Float(0.2)),
                      (1, 1, 70, 128, Float(0.1)), (2, 3, 39, 48, Float(0.1)), (1, 2, 64, 64, Float(0))])
    func matchesDoubleReference(shape: (Int, Int, Int, Int, Float)) {
        let (B, H, T, C, p) = shape
        let c = Case(B: B, H: H, T: T, C: C, seed: 5)
        let (ro, rd) = c.reference(dropout: p, seed: 99)
        for path in [CPU.KernelPath.native, .portable] {
            let (o, d) = CPU.withKernelPath(path) { c.run(dropout: p, seed: 99) }
            #expect(Self.maxError(o, ro) < 2e-6, "\(shape) \(path): forward error \(Self.maxError(o, ro))")
            #expect(Self.maxError(d, rd) < 2e-6, "\(shape) \(path): backward error \(Self.maxError(d, rd))")
        }
    }

    @Test func bitIdenticalAcrossThreadsAndRuns() {
        ThreadPool.exclusive {
            let c = Case(B: 3, H: 4, T: 29, C: 64, seed: 8)
            ThreadPool.setThreads(1)
            let one = c.run(dropout: 0.1, seed: 3)
            for threads in [2, 3] {
                ThreadPool.setThreads(threads)
                let again = c.run(dropout: 0.1, seed: 3)
                #expect(again.out == one.out && again.dQKV == one.dQKV, "\(threads) threads differ from 1")
            }
            #expect(c.run(dropout: 0.1, seed: 3).dQKV == c.run(dropout: 0.1, seed: 3).dQKV)
        }
    }

    @Test func dropoutRateIsP() {
        var kept = 0
        for i in 0..<100_000 where FusedAttention.keeps(seed: 7, index: i, dropout: 0.3) { kept += 1 }
        #expect(abs(Double(kept) / 100_000 - 0.7) < 0.01, "kept \(kept)")
    }
}
