import Foundation
import Testing
import SwConfig
import SwNN
import SwTensor
import _TestSupport

/// Double reference of torch.nn.LayerNorm(dim) over the last dimension (biased variance).
func layerNormReference(dim: Int, eps: Double) -> GradCheck.Reference {
    { x, p in
        var y = [Double](repeating: 0, count: x.count)
        for r in 0..<(x.count / dim) {
            let row = x[(r * dim)..<((r + 1) * dim)]
            let mean = row.reduce(0, +) / Double(dim)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(dim)
            for i in 0..<dim {
                y[r * dim + i] = (x[r * dim + i] - mean) / (variance + eps).squareRoot() * p[0][i] + p[1][i]
            }
        }
        return y
    }
}

@Suite struct LayerNormTests {
    @Test(arguments: [[5], [3, 6], [2, 2, 16]])
    func gradients(shape: [Int]) {
        let layer = LayerNorm(inputShape: shape)
        #expect(layer.parameterShapes.map(\.shape) == [[shape.last!], [shape.last!]])
        let report = GradCheck().check(layer, batch: 3, reference: layerNormReference(dim: shape.last!, eps: 1e-5))
        #expect(report.passed, "\(report)")
    }

    @Test func initialisesLikeTorch() {
        let layer = LayerNorm(inputShape: [4])
        let store = ParameterStore(root: layer)
        var rng = RNG(seed: 1)
        layer.resetAllParameters(rng: &rng)
        #expect(store.value("weight")!.array == [1, 1, 1, 1])
        #expect(store.value("bias")!.array == [0, 0, 0, 0])
    }
}

@Suite struct DropoutTests {
    @Test func gradientsWithTheLayersMask() {
        let p = 0.3
        let layer = Dropout(shape: [4, 5], p: Float(p))
        // GradCheck initialises the layer from RNG(seed: 7); a twin initialised the same way holds
        // the stream the layer draws its mask from: element i is kept when the i-th uniform >= p.
        let twin = Dropout(shape: [4, 5], p: Float(p))
        var r = RNG(seed: 7)
        twin.resetAllParameters(rng: &r)
        var stream = twin.rng
        let mask = (0..<(3 * 20)).map { _ in Double(stream.uniform()) >= p ? 1 / (1 - p) : 0 }
        let report = GradCheck().check(layer, batch: 3, seed: 7) { x, _ in zip(x, mask).map { $0 * $1 } }
        #expect(report.passed, "\(report)")
        #expect(mask.contains(0) && mask.contains { $0 > 0 })
    }

    @Test func identityInEvaluationAndRateInTraining() {
        let layer = Dropout(shape: [1000], p: 0.25)
        var rng = RNG(seed: 5)
        layer.resetAllParameters(rng: &rng)
        let x = Tensor(repeating: 1, shape: [10, 1000])
        let before = layer.rng
        #expect(layer.forward(x, training: false).array == x.array)
        #expect(layer.backward(x).array == x.array)
        #expect(layer.rng == before, "evaluation must not draw numbers")
        let y = layer.forward(x, training: true).array
        let kept = y.filter { $0 != 0 }
        #expect(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
        #expect(abs(Double(kept.count) / 10_000 - 0.75) < 0.02)
        #expect(layer.rng != before)
    }

    @Test func modelSeedFixesTheStream() throws {
        let text = #"{"input": [8], "layers": [{"type": "dense", "units": 8}, {"type": "dropout", "p": 0.5}, {"type": "dense", "units": 2}]}"#
        func stream(_ seed: UInt64) throws -> RNG.State {
            let model = try Model(config: ConfigValue.parse(text, file: nil))
            model.initialize(seed: seed)
            #expect(model.stochasticLayers.map(\.name) == ["1"])
            return model.stochasticLayers[0].layer.rng.state
        }
        #expect(try stream(1) == stream(1))
        #expect(try stream(1) != stream(2))
    }
}

@Suite struct EmbeddingTests {
    @Test func gradients() {
        let (vocab, dim, tokens) = (11, 4, 6)
        let layer = Embedding(inputShape: [tokens], vocab: vocab, dim: dim)
        #expect(layer.outputShape == [tokens, dim])
        let report = GradCheck().check(layer, batch: 3, input: { Float($0.below(vocab)) }) { x, p in
            x.flatMap { id in (0..<dim).map { p[0][Int(id.rounded()) * dim + $0] } }
        }
        #expect(report.passed, "\(report)")
    }

    @Test func initialisesStandardNormal() {
        let layer = Embedding(inputShape: [3], vocab: 200, dim: 50)
        let store = ParameterStore(root: layer)
        var rng = RNG(seed: 9)
        layer.resetAllParameters(rng: &rng)
        let v = store.values.array.map(Double.init)
        let mean = v.reduce(0, +) / Double(v.count)
        let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count)
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
    }

    @Test func tokenOutsideVocabularyStopsTheProcess() async {
        await #expect(processExitsWith: .failure) {
            let layer = Embedding(inputShape: [2], vocab: 5, dim: 3)
            _ = ParameterStore(root: layer)
            _ = layer.forward(Tensor(shape: [1, 2], values: [1, 5]), training: false)
        }
    }
}
