import Testing
import SwNN
import SwTensor
import _TestSupport

/// Double reference of y = x W^T + b over the last dimension.
func denseReference(inFeatures: Int, outFeatures: Int, bias: Bool) -> GradCheck.Reference {
    { x, p in
        let rows = x.count / inFeatures
        var y = [Double](repeating: 0, count: rows * outFeatures)
        for r in 0..<rows {
            for o in 0..<outFeatures {
                var s = bias ? p[1][o] : 0
                for i in 0..<inFeatures { s += x[r * inFeatures + i] * p[0][o * inFeatures + i] }
                y[r * outFeatures + o] = s
            }
        }
        return y
    }
}

@Suite struct DenseTests {
    @Test(arguments: [(5, 3, true), (7, 11, false), (1, 4, true)])
    func gradientsMatchFiniteDifferences(inF: Int, outF: Int, bias: Bool) {
        let layer = Dense(inputShape: [inF], units: outF, bias: bias)
        let report = GradCheck().check(layer, batch: 4, reference: denseReference(inFeatures: inF, outFeatures: outF, bias: bias))
        #expect(report.passed, "\(report)")
        #expect(report.checked > 0)
    }

    @Test func appliesToLastDimension() {
        let layer = Dense(inputShape: [3, 6], units: 4)
        #expect(layer.outputShape == [3, 4])
        let report = GradCheck().check(layer, batch: 2, reference: denseReference(inFeatures: 6, outFeatures: 4, bias: true))
        #expect(report.passed, "\(report)")
    }

    @Test func residualAddsSkipPath() {
        let body = Sequential([Dense(inputShape: [5], units: 5), ReLU(shape: [5])], inputShape: [5])
        let layer = Residual(body)
        let dense = denseReference(inFeatures: 5, outFeatures: 5, bias: true)
        let report = GradCheck().check(layer, batch: 3) { x, p in
            let f = dense(x, p).map { max($0, 0) }
            return zip(x, f).map { $0 + $1 }
        }
        #expect(report.passed, "\(report)")
    }

    @Test func backwardAccumulatesParameterGradients() {
        let layer = Dense(inputShape: [3], units: 2)
        let store = ParameterStore(root: layer)
        var rng = RNG(seed: 1)
        layer.resetAllParameters(rng: &rng)
        let x = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let dy = Tensor(shape: [2, 2], values: [1, -1, 0.5, 2])
        _ = layer.forward(x, training: true)
        _ = layer.backward(dy)
        let once = store.gradients.array
        _ = layer.forward(x, training: true)
        _ = layer.backward(dy)
        #expect(zip(store.gradients.array, once).allSatisfy { abs($0 - 2 * $1) < 1e-5 })
    }
}
