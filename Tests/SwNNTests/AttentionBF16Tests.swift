import Foundation
import Testing
import SwNN
import SwTensor

/// `CausalSelfAttention` with `gemmPrecision = .bf16` (its own switch; the projections stay
/// fp32 here): the attention core computes, to fp32 accumulation order, the Double attention
/// on Q, K, V and dO rounded to bf16 (P and dS unrounded), on both kernel paths, fused and
/// unfused. Tolerance: 1e-5 of the largest value (the fp32 tests' bound: only the order of the
/// fp32 sums differs; the rounding itself is the same bits in the layer and the reference).
/// The bf16 layer also differs from the fp32 layer by more than 1e-4 (the rounding happens),
/// and gives the same bits run to run and at 1 and 2 threads.
@Suite(.serialized) struct AttentionBF16Tests {
    static let (B, T, C, H) = (2, 19, 64, 2)

    static func make(_ precision: GEMMPrecision, fused: Bool) -> (CausalSelfAttention, ParameterStore) {
        let layer = CausalSelfAttention(inputShape: [T, C], heads: H)
        let store = ParameterStore(root: layer)
        var rng = RNG(seed: 31)
        layer.resetAllParameters(rng: &rng)
        layer.fused = fused
        layer.gemmPrecision = precision
        return (layer, store)
    }

    static func inputs() -> (Tensor, Tensor) {
        var rng = RNG(seed: 5)
        let x = Tensor(zeros: [B, T, C]), dy = Tensor(zeros: [B, T, C])
        rng.fillUniform(x, -2, 2)
        rng.fillUniform(dy, -1, 1)
        return (x, dy)
    }

    static func bf16(_ a: [Float]) -> [Double] { a.map { Double(BFloat16($0).float) } }

    /// The attention core in Double: `o` (B, T, C) and `dQKV` (B, T, 3C) from `qkv` and `dO`.
    static func core(_ qkv: [Double], _ dO: [Double]) -> (o: [Double], dqkv: [Double]) {
        let d = C / H, scale = 1 / Double(d).squareRoot()
        var o = [Double](repeating: 0, count: B * T * C), g = [Double](repeating: 0, count: B * T * 3 * C)
        for b in 0..<B {
            for h in 0..<H {
                func at(_ t: Int, _ part: Int, _ e: Int) -> Int { (b * T + t) * 3 * C + part * C + h * d + e }
                func ot(_ t: Int, _ e: Int) -> Int { (b * T + t) * C + h * d + e }
                for i in 0..<T {
                    var s = [Double](repeating: 0, count: i + 1)
                    for j in 0...i { for e in 0..<d { s[j] += qkv[at(i, 0, e)] * qkv[at(j, 1, e)] }; s[j] *= scale }
                    let mx = s.max()!
                    var p = s.map { Foundation.exp($0 - mx) }
                    let z = p.reduce(0, +)
                    p = p.map { $0 / z }
                    var dp = [Double](repeating: 0, count: i + 1)
                    for j in 0...i {
                        for e in 0..<d {
                            o[ot(i, e)] += p[j] * qkv[at(j, 2, e)]
                            dp[j] += dO[ot(i, e)] * qkv[at(j, 2, e)]
                            g[at(j, 2, e)] += p[j] * dO[ot(i, e)]
                        }
                    }
                    let dot = zip(dp, p).reduce(0) { $0 + $1.0 * $1.1 }
                    for j in 0...i {
                        let ds = scale * p[j] * (dp[j] - dot)
                        for e in 0..<d {
                            g[at(i, 0, e)] += ds * qkv[at(j, 1, e)]
                            g[at(j, 1, e)] += ds * qkv[at(i, 0, e)]
                        }
                    }
                }
            }
        }
        return (o, g)
    }

    static func maxRelative(_ a: [Float], _ b: [Double]) -> Double {
        let s = max(b.reduce(0) { max($0, abs($1)) }, 1e-30)
        return zip(a, b).reduce(0) { max($0, abs(Double($1.0) - $1.1)) } / s
    }

    @Test(arguments: [true, false])
    func matchesTheDoubleReferenceOnRoundedOperands(fused: Bool) {
        let (x, dy) = Self.inputs()
        for path in [CPU.KernelPath.native, .portable] {
            CPU.withKernelPath(path) {
                let (layer, _) = Self.make(.bf16, fused: fused)
                let y = layer.forward(x, training: true).array
                let dx = layer.backward(dy).array
                // The fp32 layer's projections give the bits the bf16 layer's projections feed
                // in (qkv output, and dO = dy Wproj, which does not depend on the forward).
                let (ref, store) = Self.make(.fp32, fused: fused)
                let qkvF = ref.qkv.forward(x, training: true).array
                let yF = ref.forward(x, training: true).array
                let dO = ref.proj.backward(dy).array
                let (o, dqkv) = Self.core(Self.bf16(qkvF), Self.bf16(dO))
                let wp = store.value("proj.weight")!.array, bp = store.value("proj.bias")!.array
                let wq = store.value("qkv.weight")!.array
                var yR = [Double](repeating: 0, count: Self.B * Self.T * Self.C), dxR = yR
                let (C, rows) = (Self.C, Self.B * Self.T)
                for r in 0..<rows {
                    for u in 0..<C {
                        var s = Double(bp[u])
                        for e in 0..<C { s += o[r * C + e] * Double(wp[u * C + e]) }
                        yR[r * C + u] = s
                    }
                    for e in 0..<C {
                        var s = 0.0
                        for u in 0..<(3 * C) { s += dqkv[r * 3 * C + u] * Double(wq[u * C + e]) }
                        dxR[r * C + e] = s
                    }
                }
                let label = "fused \(fused) \(path)"
                #expect(Self.maxRelative(y, yR) < 1e-5, "\(label) forward: \(Self.maxRelative(y, yR))")
                #expect(Self.maxRelative(dx, dxR) < 1e-5, "\(label) input gradient: \(Self.maxRelative(dx, dxR))")
                let dxF = ref.backward(dy).array
                #expect(Self.maxRelative(y, yF.map(Double.init)) > 1e-4, "\(label) forward was not rounded")
                #expect(Self.maxRelative(dx, dxF.map(Double.init)) > 1e-4, "\(label) input gradient was not rounded")
            }
        }
    }

    @Test func sameBitsRunToRunAndAtOneAndTwoThreads() {
        let (x, dy) = Self.inputs()
        func run(_ threads: Int) -> [Float] {
            ThreadPool.setThreads(threads)
            let (layer, store) = Self.make(.bf16, fused: true)
            let y = layer.forward(x, training: true).array
            store.zeroGradients()
            return y + layer.backward(dy).array + store.gradients.array
        }
        ThreadPool.exclusive {
            let a = run(2)
            #expect(a == run(2), "run to run at 2 threads")
            #expect(a == run(1), "1 thread against 2")
        }
    }
}
