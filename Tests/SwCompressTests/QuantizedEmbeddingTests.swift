import Testing
import SwCompress
import SwNN
import SwTensor

/// The int8 embeddings: a lookup is exactly the dequantized table row (`q · scale`), within half
/// a step of the fp32 row, and a network after an int8 embedding stays within the bound that
/// half a step per table value implies.
@Suite struct QuantizedEmbeddingTests {
    static func ids(_ n: Int, vocab: Int, seed: UInt64) -> Tensor {
        var rng = RNG(seed: seed)
        let x = Tensor(zeros: [n])
        for i in 0..<n { x.pointer[i] = Float(Int(rng.uniform() * Float(vocab)) % vocab) }
        return x
    }

    @Test(arguments: [WeightGranularity.perChannel, .perTensor])
    func tokenPositionLookupIsTheDequantizedRows(granularity: WeightGranularity) throws {
        let (T, V, D) = (7, 11, 13)
        let fp = TokenPositionEmbedding(inputShape: [T], vocab: V, dim: D, context: 9)
        _ = ParameterStore(root: fp)
        var rng = RNG(seed: 5)
        fp.resetParameters(rng: &rng)
        fp.parameterTensors[0].pointer[3 * D + 2] = 0   // rows of mixed magnitude
        for j in 0..<D { fp.parameterTensors[0].pointer[4 * D + j] *= 40 }
        let q = try #require(Int8LayerBuilder.build(fp, granularity: granularity, activations: .dynamic, inputRange: nil)
                             as? QuantizedTokenPositionEmbedding)
        let p = q.parameterTensors.map(\.array)
        let (tok, tokS, pos, posS) = (p[0], p[1], p[2], p[3])
        #expect(tokS.count == (granularity == .perChannel ? V : 1) && posS.count == (granularity == .perChannel ? 9 : 1))
        for v in tok + pos { #expect(v == v.rounded() && abs(v) <= 127) }
        let x = Self.ids(3 * T, vocab: V, seed: 9)
        x.reshape([3, T])
        let y = q.forward(x, training: false).array, yf = fp.forward(x, training: false).array
        let wt = fp.parameterTensors[0].array, wp = fp.parameterTensors[1].array
        func s(_ a: [Float], _ r: Int) -> Float { a.count == 1 ? a[0] : a[r] }
        var worst: Float = 0
        for i in 0..<x.count {
            let r = Int(x.pointer[i]), t = i % T
            for j in 0..<D {
                // Exactly the dequantized rows, in the same float operations.
                #expect(y[i * D + j] == tok[r * D + j] * s(tokS, r) + pos[t * D + j] * s(posS, t))
                // Each table within half a step of fp32 (plus the rounding of the products).
                let bound = s(tokS, r) / 2 + s(posS, t) / 2 + 1e-6 * (abs(wt[r * D + j]) + abs(wp[t * D + j]))
                let err = abs(y[i * D + j] - yf[i * D + j])
                worst = max(worst, err)
                #expect(err <= bound, "id \(r) position \(t) column \(j)")
            }
        }
        #expect(worst > 0)
    }

    /// `embedding` → `dense`: with the table within `s_r / 2` of fp32, each output is within
    /// `(s_r / 2) Σ_i |W_ji|` (plus float rounding) of the fp32 network's.
    @Test func networkAfterAnInt8EmbeddingStaysWithinItsBound() throws {
        let (V, D, N) = (17, 24, 5)
        let emb = Embedding(inputShape: [4], vocab: V, dim: D)
        let dense = Dense(inputShape: [4, D], units: N)
        let net = Sequential([emb, dense], inputShape: [4])
        _ = ParameterStore(root: net)
        var rng = RNG(seed: 2)
        emb.resetParameters(rng: &rng)
        dense.resetParameters(rng: &rng)
        let q = try #require(Int8LayerBuilder.build(emb, granularity: .perChannel, activations: .dynamic, inputRange: nil) as? QuantizedEmbedding)
        let x = Self.ids(8, vocab: V, seed: 4)
        x.reshape([2, 4])
        let yf = net.forward(x, training: false).array
        let yq = dense.forward(q.forward(x, training: false), training: false).array
        let w = dense.parameterTensors[0].array, scales = q.parameterTensors[1].array, table = emb.parameterTensors[0].array
        var worst = 0.0
        for i in 0..<x.count {
            let r = Int(x.pointer[i])
            for o in 0..<N {
                var sumW = 0.0, mag = 0.0
                for c in 0..<D { sumW += Double(abs(w[o * D + c])); mag += Double(abs(w[o * D + c] * table[r * D + c])) }
                let bound = Double(scales[r]) / 2 * sumW + 1e-5 * mag + 1e-6
                let err = abs(Double(yf[i * N + o]) - Double(yq[i * N + o]))
                worst = max(worst, err)
                #expect(err <= bound, "token \(i) output \(o)")
            }
        }
        #expect(worst > 0)
    }
}
