import Testing
import SwNN
import SwTensor
import _TestSupport

/// `CausalSelfAttention` on the fused kernels against the unfused layer (the same parameters,
/// input and output gradient) and against the Double reference with finite differences.
@Suite struct FusedAttentionLayerTests {
    /// Head widths 16 and 32 run fused by default; 3 does not.
    @Test func fusedByDefaultWhereSupported() {
        #expect(CausalSelfAttention(inputShape: [4, 32], heads: 2).fused)
        #expect(CausalSelfAttention(inputShape: [4, 64], heads: 2).fused)
        #expect(!CausalSelfAttention(inputShape: [4, 12], heads: 4).fused)
    }

    @Test(arguments: [(5, 32, 2), (3, 32, 1)])
    func gradients(shape: (Int, Int, Int)) {
        let (T, C, heads) = shape
        let layer = CausalSelfAttention(inputShape: [T, C], heads: heads)
        #expect(layer.fused)
        let report = GradCheck().check(layer, batch: 2) { x, p in
            TransformerReference.attention(x, p[0..<4], T: T, C: C, heads: heads)
        }
        #expect(report.passed, "\(report)")
    }

    /// Forward, input gradient and parameter gradients of the fused and unfused paths agree
    /// within 1e-5 of the largest value (float32 with sums in different orders).
    @Test(arguments: [(64, 128, 4), (17, 64, 2)])
    func fusedMatchesUnfused(shape: (Int, Int, Int)) {
        let (T, C, heads) = shape
        let B = 3
        func make() -> (CausalSelfAttention, ParameterStore) {
            let layer = CausalSelfAttention(inputShape: [T, C], heads: heads)
            let store = ParameterStore(root: layer)
            var rng = RNG(seed: 21)
            layer.resetAllParameters(rng: &rng)
            return (layer, store)
        }
        let (fused, s1) = make(), (plain, s2) = make()
        plain.fused = false
        #expect(fused.fused && !plain.fused)
        var rng = RNG(seed: 4)
        let x = Tensor(zeros: [B, T, C]), dy = Tensor(zeros: [B, T, C])
        rng.fillUniform(x, -1, 1)
        rng.fillUniform(dy, -1, 1)
        func close(_ a: [Float], _ b: [Float], _ what: String) {
            let scale = b.reduce(Float(0)) { max($0, abs($1)) }
            let err = zip(a, b).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            #expect(err <= 1e-5 * max(scale, 1), "\(shape) \(what): max difference \(err) (scale \(scale))")
        }
        close(fused.forward(x, training: true).array, plain.forward(x, training: true).array, "forward")
        close(fused.backward(dy).array, plain.backward(dy).array, "input gradient")
        close(s1.gradients.array, s2.gradients.array, "parameter gradients")
    }

    /// With dropout the fused path is deterministic for a seed and drops about p of the mass.
    @Test func dropoutIsDeterministic() {
        func run() -> ([Float], [Float]) {
            let layer = CausalSelfAttention(inputShape: [16, 32], heads: 2, dropout: 0.2)
            let store = ParameterStore(root: layer)
            var rng = RNG(seed: 9)
            layer.resetAllParameters(rng: &rng)
            let x = Tensor(zeros: [2, 16, 32])
            rng.fillUniform(x, -1, 1)
            let y = layer.forward(x, training: true).array
            _ = layer.backward(Tensor(repeating: 1, shape: [2, 16, 32]))
            return (y, store.gradients.array)
        }
        let (a, b) = (run(), run())
        #expect(a.0 == b.0 && a.1 == b.1)
    }
}
