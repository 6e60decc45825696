import Foundation
import Testing
import SwConfig
import SwNN
import SwTensor
import _TestSupport

@Suite struct ElementwiseTests {
    @Test func geluIsExactErfForm() {
        let layer = GELU(shape: [3, 5])
        let report = GradCheck().check(layer, batch: 4, input: { 3 * $0.uniform(-1, 1) }) { x, _ in
            x.map { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }
        }
        #expect(report.passed, "\(report)")
        // torch.nn.GELU()(torch.tensor([-1., 0.5, 2.])) = [-0.158655, 0.345731, 1.954500]
        let y = GELU(shape: [3]).forward(Tensor(shape: [1, 3], values: [-1, 0.5, 2]), training: false)
        #expect(zip(y.array, [-0.158655, 0.345731, 1.954500] as [Float]).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test func tanhGradients() {
        let report = GradCheck().check(Tanh(shape: [7]), batch: 3, input: { 2 * $0.uniform(-1, 1) }) { x, _ in
            x.map { Foundation.tanh($0) }
        }
        #expect(report.passed, "\(report)")
    }

    @Test func sigmoidGradients() {
        let report = GradCheck().check(Sigmoid(shape: [2, 4]), batch: 3, input: { 4 * $0.uniform(-1, 1) }) { x, _ in
            x.map { 1 / (1 + Foundation.exp(-$0)) }
        }
        #expect(report.passed, "\(report)")
    }

    /// SiLU is its own file plus one line in `LayerRegistry.standard`: gradient-checked, equal
    /// to torch's values, and reachable from a config.
    @Test func siluGradientsTorchValuesAndConfig() throws {
        let report = GradCheck().check(SiLU(shape: [2, 5]), batch: 3, input: { 4 * $0.uniform(-1, 1) }) { x, _ in
            x.map { $0 / (1 + Foundation.exp(-$0)) }
        }
        #expect(report.passed, "\(report)")
        // torch.nn.SiLU()(torch.tensor([-1., 0.5, 2.])) = [-0.268941, 0.311230, 1.761594]
        let y = SiLU(shape: [3]).forward(Tensor(shape: [1, 3], values: [-1, 0.5, 2]), training: false)
        #expect(zip(y.array, [-0.268941, 0.311230, 1.761594] as [Float]).allSatisfy { abs($0 - $1) < 1e-5 })
        let model = try Model(config: ConfigValue.parse("""
            {"input": [4], "layers": [{"type": "dense", "units": 3}, {"type": "silu"}, {"type": "dense", "units": 2}]}
            """, file: nil))
        #expect(model.network.layers[1] is SiLU)
        #expect(LayerRegistry.names.contains("silu"))
    }

    @Test func flattenAndReshapeKeepRowMajorOrder() {
        let flatten = Flatten(inputShape: [2, 3, 4])
        #expect(flatten.outputShape == [24])
        #expect(GradCheck().check(flatten, batch: 3) { x, _ in x }.passed)
        let reshape = Reshape(inputShape: [40], shape: [1, 5, 8])
        #expect(reshape.outputShape == [1, 5, 8])
        #expect(GradCheck().check(reshape, batch: 2) { x, _ in x }.passed)
        let x = Tensor(shape: [2, 2, 3], values: (0..<12).map(Float.init))
        let y = flatten.forward(Tensor(shape: [1, 2, 3, 4], values: (0..<24).map(Float.init)), training: true)
        #expect(y.shape == [1, 24] && y.array == (0..<24).map(Float.init))
        let r = Reshape(inputShape: [2, 3], shape: [6]).forward(x, training: true)
        #expect(r.shape == [2, 6] && r.array == x.array)
    }
}
