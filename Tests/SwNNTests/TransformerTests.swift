import Foundation
import Testing
import SwConfig
import SwNN
import SwTensor
import _TestSupport

/// Plain-loop Double references of the transformer layers (nanoGPT's math), rows of `in`
/// features mapped by a `[out, in]` weight.
enum TransformerReference {
    static func dense(_ x: [Double], _ w: [Double], _ b: [Double], inF: Int, outF: Int) -> [Double] {
        let rows = x.count / inF
        var y = [Double](repeating: 0, count: rows * outF)
        for r in 0..<rows {
            for o in 0..<outF {
                var s = b[o]
                for i in 0..<inF { s += x[r * inF + i] * w[o * inF + i] }
                y[r * outF + o] = s
            }
        }
        return y
    }

    static func layerNorm(_ x: [Double], _ w: [Double], _ b: [Double], dim: Int) -> [Double] {
        layerNormReference(dim: dim, eps: 1e-5)(x, [w, b])
    }

    static func gelu(_ x: [Double]) -> [Double] { x.map { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) } }

    /// Causal self-attention on `(B, T, C)` with params `[qkv.weight, qkv.bias, proj.weight, proj.bias]`.
    static func attention(_ x: [Double], _ p: ArraySlice<[Double]>, T: Int, C: Int, heads: Int) -> [Double] {
        let p = Array(p)
        let B = x.count / (T * C), d = C / heads
        let qkv = dense(x, p[0], p[1], inF: C, outF: 3 * C)
        var o = [Double](repeating: 0, count: B * T * C)
        for b in 0..<B {
            for h in 0..<heads {
                func at(_ t: Int, _ part: Int, _ j: Int) -> Double { qkv[(b * T + t) * 3 * C + part * C + h * d + j] }
                for i in 0..<T {
                    var s = [Double](repeating: 0, count: i + 1)
                    for j in 0...i {
                        for e in 0..<d { s[j] += at(i, 0, e) * at(j, 1, e) }
                        s[j] /= Double(d).squareRoot()
                    }
                    let mx = s.max()!
                    let ex = s.map { exp($0 - mx) }
                    let z = ex.reduce(0, +)
                    for e in 0..<d {
                        var v = 0.0
                        for j in 0...i { v += ex[j] / z * at(j, 2, e) }
                        o[(b * T + i) * C + h * d + e] = v
                    }
                }
            }
        }
        return dense(o, p[2], p[3], inF: C, outF: C)
    }

    /// The pre-norm block with params in `TransformerBlock` order (12 tensors).
    static func block(_ x: [Double], _ p: [[Double]], T: Int, C: Int, heads: Int, ratio: Int) -> [Double] {
        let a = attention(layerNorm(x, p[0], p[1], dim: C), p[2..<6], T: T, C: C, heads: heads)
        let h = zip(x, a).map(+)
        let m1 = gelu(dense(layerNorm(h, p[6], p[7], dim: C), p[8], p[9], inF: C, outF: ratio * C))
        let m = dense(m1, p[10], p[11], inF: ratio * C, outF: C)
        return zip(h, m).map(+)
    }
}

@Suite struct AttentionTests {
    @Test(arguments: [(5, 8, 2), (4, 6, 1), (3, 12, 4)])
    func gradients(shape: (Int, Int, Int)) {
        let (T, C, heads) = shape
        let layer = CausalSelfAttention(inputShape: [T, C], heads: heads)
        let report = GradCheck().check(layer, batch: 2) { x, p in
            TransformerReference.attention(x, p[0..<4], T: T, C: C, heads: heads)
        }
        #expect(report.passed, "\(report)")
    }

    @Test func isCausal() {
        // Changing the last token changes no earlier output.
        let layer = CausalSelfAttention(inputShape: [4, 8], heads: 2)
        let store = ParameterStore(root: layer)
        var rng = RNG(seed: 3)
        layer.resetAllParameters(rng: &rng)
        #expect(store.entries.map(\.name) == ["qkv.weight", "qkv.bias", "proj.weight", "proj.bias"])
        let x = Tensor(zeros: [1, 4, 8])
        rng.fillUniform(x, -1, 1)
        let y0 = layer.forward(x, training: false).array
        for j in 0..<8 { x.pointer[24 + j] += 1 }
        let y1 = layer.forward(x, training: false).array
        #expect(Array(y0[0..<24]) == Array(y1[0..<24]))
        #expect(Array(y0[24...]) != Array(y1[24...]))
    }

    @Test func dropoutOnlyInTraining() {
        let plain = CausalSelfAttention(inputShape: [4, 8], heads: 2)
        let dropping = CausalSelfAttention(inputShape: [4, 8], heads: 2, dropout: 0.5)
        let s1 = ParameterStore(root: plain), s2 = ParameterStore(root: dropping)
        var r1 = RNG(seed: 3), r2 = RNG(seed: 3)
        plain.resetAllParameters(rng: &r1)
        dropping.resetAllParameters(rng: &r2)
        #expect(s1.values.array == s2.values.array)
        let x = Tensor(zeros: [2, 4, 8])
        r1.fillUniform(x, -1, 1)
        let want = plain.forward(x, training: true).array
        #expect(dropping.forward(x, training: false).array == want)
        #expect(dropping.forward(x, training: true).array != want)
        // Backward runs through both masks and fills every gradient.
        _ = dropping.backward(Tensor(repeating: 1, shape: [2, 4, 8]))
        #expect(s2.gradients.array.contains { $0 != 0 })
    }
}

@Suite struct TransformerBlockTests {
    @Test func gradients() {
        let (T, C, heads, ratio) = (4, 8, 2, 2)
        let layer = TransformerBlock(inputShape: [T, C], heads: heads, mlpRatio: ratio)
        let report = GradCheck().check(layer, batch: 2) { x, p in
            TransformerReference.block(x, p, T: T, C: C, heads: heads, ratio: ratio)
        }
        #expect(report.passed, "\(report)")
    }

    @Test func tokenPositionEmbeddingGradients() {
        let (vocab, dim, T, context) = (7, 3, 5, 6)
        let layer = TokenPositionEmbedding(inputShape: [T], vocab: vocab, dim: dim, context: context)
        #expect(layer.outputShape == [T, dim])
        let report = GradCheck().check(layer, batch: 3, input: { Float($0.below(vocab)) }) { x, p in
            x.enumerated().flatMap { i, id in
                (0..<dim).map { p[0][Int(id.rounded()) * dim + $0] + p[1][(i % T) * dim + $0] }
            }
        }
        #expect(report.passed, "\(report)")
    }

    /// The names and shapes of a GPT in PyTorch, written by hand:
    /// `nn.Sequential(Emb(tok=nn.Embedding(V, C), pos=nn.Embedding(T, C)), Block, Block,
    /// nn.LayerNorm(C), nn.Linear(C, V))` with nanoGPT-style blocks (ln1, attn.qkv, attn.proj,
    /// ln2, mlp = Sequential(Linear(C, 4C), GELU(), Linear(4C, C))).
    @Test func namesMatchTorch() throws {
        let (V, T, C) = (11, 8, 16)
        let model = try Model(config: ConfigValue.parse("""
            {"input": [\(T)], "layers": [
              {"type": "token_position_embedding", "vocab": \(V), "dim": \(C)},
              {"type": "transformer_block", "heads": 4},
              {"type": "transformer_block", "heads": 2, "dropout": 0.1},
              {"type": "layernorm"},
              {"type": "dense", "units": \(V)}]}
            """, file: nil))
        func block(_ i: Int) -> [(String, [Int])] {
            [("\(i).ln1.weight", [C]), ("\(i).ln1.bias", [C]),
             ("\(i).attn.qkv.weight", [3 * C, C]), ("\(i).attn.qkv.bias", [3 * C]),
             ("\(i).attn.proj.weight", [C, C]), ("\(i).attn.proj.bias", [C]),
             ("\(i).ln2.weight", [C]), ("\(i).ln2.bias", [C]),
             ("\(i).mlp.0.weight", [4 * C, C]), ("\(i).mlp.0.bias", [4 * C]),
             ("\(i).mlp.2.weight", [C, 4 * C]), ("\(i).mlp.2.bias", [C])]
        }
        let expected: [(String, [Int])] = [("0.tok.weight", [V, C]), ("0.pos.weight", [T, C])]
            + block(1) + block(2) + [("3.weight", [C]), ("3.bias", [C]), ("4.weight", [V, C]), ("4.bias", [V])]
        let got = model.parameters.entries
        #expect(got.map(\.name) == expected.map(\.0))
        #expect(got.map(\.shape) == expected.map(\.1))
        // 12 C² + 13 C per block.
        #expect(model.parameters.count == (V + T) * C + 2 * (12 * C * C + 13 * C) + 2 * C + V * C + V)
        #expect(model.outputShape == [T, V])
        #expect(model.stochasticLayers.map(\.name) == ["1.attn", "2.attn", "2.mlp.3"])

        // Forward and backward through the whole model with (B, T) targets.
        model.initialize(seed: 1)
        let x = Tensor(zeros: [2, T])
        for i in 0..<x.count { x.pointer[i] = Float(i % V) }
        let y = model.forward(x, training: true)
        #expect(y.shape == [2, T, V])
        let targets = Tensor(zeros: [2, T])
        let dy = Tensor(zeros: y.shape)
        let r = model.loss.evaluate(output: y, targets: targets, gradient: dy, gradientScale: 1)
        #expect(r.terms == 2 * T)
        model.backward(dy)
        #expect(model.parameters.gradient("1.attn.qkv.weight")!.array.contains { $0 != 0 })
        #expect(model.parameters.gradient("0.pos.weight")!.array.contains { $0 != 0 })
    }

    @Test func configErrors() throws {
        func error(_ layers: String, input: String = "[8]") -> ConfigError? {
            do {
                _ = try Model(config: ConfigValue(ConfigValue.parse(#"{"input": \#(input), "layers": \#(layers)}"#, file: nil).json, path: "model"))
                return nil
            } catch { return error }
        }
        let emb = #"{"type": "token_position_embedding", "vocab": 5, "dim": 12}"#
        #expect(error("[\(emb), {\"type\": \"transformer_block\", \"heads\": 5}]")?.path == "model.layers[1].heads")
        #expect(error("[\(emb), {\"type\": \"causal_attention\"}]")?.path == "model.layers[1].heads")
        #expect(error("[\(emb), {\"type\": \"causal_attention\", \"heads\": 2, \"dropout\": 1}]")?.path == "model.layers[1].dropout")
        #expect(error(#"[{"type": "causal_attention", "heads": 2}]"#)?.path == "model.layers[0]")
        #expect(error(#"[{"type": "token_position_embedding", "vocab": 5, "dim": 4, "context": 4}]"#)?.path == "model.layers[0].context")
        #expect(error(#"[{"type": "token_position_embedding", "vocab": 5, "dim": 4}]"#, input: "[2, 4]")?.path == "model.layers[0]")
    }
}

@Suite struct FastGELUTests {
    @Test func matchesExactGELUEverywhere() {
        let n = 4001
        let layer = GELU(shape: [n])
        let x = Tensor(shape: [1, n], values: (0..<n).map { Float(-10 + 20 * Double($0) / Double(n - 1)) })
        let y = layer.forward(x, training: false)
        for i in 0..<n {
            let v = Double(x.pointer[i])
            let want = 0.5 * v * (1 + erf(v / 2.0.squareRoot()))
            #expect(abs(Double(y.pointer[i]) - want) <= 1e-6 * max(1, abs(want)), "gelu(\(v))")
        }
    }
}

/// Transformer blocks of one chain share backward memory, the layer norms' and GELU's
/// outputs (recomputed in backward) and the attention / MLP outputs (`Sequential.linkBlockMemory`).
@Suite struct BlockMemoryTests {
    static let config = """
        {"input": [8], "layers": [
          {"type": "token_position_embedding", "vocab": 11, "dim": 32},
          {"type": "transformer_block", "heads": 2, "dropout": 0.1},
          {"type": "transformer_block", "heads": 2, "dropout": 0.1},
          {"type": "transformer_block", "heads": 2, "dropout": 0.1},
          {"type": "layernorm"},
          {"type": "dense", "units": 11}]}
        """

    /// Training steps (with a short batch in between) give the same bits with shared memory
    /// as with every layer's own buffers, on both attention paths.
    @Test(arguments: [true, false])
    func sharedMemoryIsBitIdentical(fused: Bool) throws {
        let shared = try Model(config: ConfigValue.parse(Self.config, file: nil))
        let own = Model(network: Sequential(shared.network.layers.map { $0.replica() }, inputShape: shared.inputShape,
                                            sharingBlockMemory: false), loss: shared.loss)
        for m in [shared, own] {
            m.initialize(seed: 7)
            for case let a as CausalSelfAttention in m.network.allLayers().map(\.layer) { a.fused = fused }
        }
        #expect(shared.parameters.values.array == own.parameters.values.array)
        var rng = RNG(seed: 5)
        for (step, batch) in [4, 3, 4].enumerated() {
            let x = Tensor(zeros: [batch, 8]), t = Tensor(zeros: [batch, 8])
            for i in 0..<x.count { x.pointer[i] = Float(rng.below(11)); t.pointer[i] = Float(rng.below(11)) }
            var losses: [Double] = []
            for m in [shared, own] {
                m.parameters.zeroGradients()
                let y = m.forward(x, training: true)
                let dy = Tensor(zeros: y.shape)
                losses.append(m.loss.evaluate(output: y, targets: t, gradient: dy, gradientScale: 1).sum)
                m.backward(dy)
                let v = m.parameters.values.pointer, g = m.parameters.gradients.pointer
                for i in 0..<m.parameters.count { v[i] -= 0.05 * g[i] }
            }
            #expect(losses[0] == losses[1], "step \(step)")
            #expect(shared.parameters.gradients.array == own.parameters.gradients.array, "step \(step)")
            #expect(shared.parameters.values.array == own.parameters.values.array, "step \(step)")
        }
    }

    /// The blocks really share: each returns its input gradient in the same tensor, and a
    /// model built without sharing does not.
    @Test func blocksReturnOneGradientTensor() throws {
        let shared = try Model(config: ConfigValue.parse(Self.config, file: nil))
        let own = Model(network: Sequential(shared.network.layers.map { $0.replica() }, inputShape: shared.inputShape,
                                            sharingBlockMemory: false), loss: shared.loss)
        for (m, same) in [(shared, true), (own, false)] {
            m.initialize(seed: 1)
            let x = Tensor(zeros: [2, 8])
            let y = m.network.layers[0...3].reduce(x) { $1.forward($0, training: true) }
            let g3 = m.network.layers[3].backward(Tensor(repeating: 0.1, shape: y.shape))
            let g2 = m.network.layers[2].backward(g3)
            #expect((g2 === g3) == same)
        }
    }
}
