import Testing
import SwConfig
import SwNN
import SwTensor
import _TestSupport

/// Double reference of y = (x Dᵀ) Uᵀ + b over the last dimension; p = [D [r, in], U [out, r], b].
func lowRankReference(inFeatures: Int, outFeatures: Int, rank: Int, bias: Bool) -> GradCheck.Reference {
    { x, p in
        let rows = x.count / inFeatures
        var y = [Double](repeating: 0, count: rows * outFeatures)
        for r in 0..<rows {
            var h = [Double](repeating: 0, count: rank)
            for k in 0..<rank { for i in 0..<inFeatures { h[k] += x[r * inFeatures + i] * p[0][k * inFeatures + i] } }
            for o in 0..<outFeatures {
                var s = bias ? p[2][o] : 0
                for k in 0..<rank { s += h[k] * p[1][o * rank + k] }
                y[r * outFeatures + o] = s
            }
        }
        return y
    }
}

@Suite struct LowRankDenseTests {
    @Test(arguments: [(6, 5, 2, true), (7, 3, 4, false), (1, 4, 1, true)])
    func gradientsMatchFiniteDifferences(inF: Int, outF: Int, rank: Int, bias: Bool) {
        let layer = LowRankDense(inputShape: [inF], units: outF, rank: rank, bias: bias)
        let report = GradCheck().check(layer, batch: 4, reference: lowRankReference(inFeatures: inF, outFeatures: outF, rank: rank, bias: bias))
        #expect(report.passed, "\(report)")
        #expect(report.checked > 0)
    }

    @Test func appliesToLastDimension() {
        let layer = LowRankDense(inputShape: [3, 6], units: 4, rank: 2)
        #expect(layer.outputShape == [3, 4])
        let report = GradCheck().check(layer, batch: 2, reference: lowRankReference(inFeatures: 6, outFeatures: 4, rank: 2, bias: true))
        #expect(report.passed, "\(report)")
    }

    /// torch: Sequential(Linear(40,64), ReLU(), Sequential(Linear(64,8,bias=False), Linear(8,64)), ReLU(), Linear(64,10)).
    @Test func parametersAreNamedLikeTorchSequentialOfTwoLinears() throws {
        let model = try Model(config: ConfigValue.parse("""
            {"input": [40], "layers": [
              {"type": "dense", "units": 64}, {"type": "relu"},
              {"type": "lowrank_dense", "units": 64, "rank": 8}, {"type": "relu"},
              {"type": "dense", "units": 10}]}
            """, file: nil))
        let got = model.parameters.entries.map { "\($0.name) \($0.shape)" }
        #expect(got == ["0.weight [64, 40]", "0.bias [64]",
                        "2.0.weight [8, 64]", "2.1.weight [64, 8]", "2.1.bias [64]",
                        "4.weight [10, 64]", "4.bias [10]"])
    }

    /// The names the rewrite gives a dense replaced by `factorized(down:up:)` (a Sequential of
    /// two) are the names the config's `lowrank_dense` builds: the folder a low-rank pass writes
    /// loads strictly into the config it writes.
    @Test func rewriteNamesEqualConfigNames() throws {
        let dense = try Model(config: ConfigValue.parse("""
            {"input": [12], "layers": [{"type": "dense", "units": 9}, {"type": "relu"}, {"type": "dense", "units": 3}]}
            """, file: nil))
        dense.initialize(seed: 3)
        try dense.rewrite { path, layer in
            guard path == "0", let d = layer as? Dense else { return nil }
            return d.factorized(down: Tensor(zeros: [2, 12]), up: Tensor(zeros: [9, 2]))
        }
        let lowRank = try Model(config: ConfigValue.parse("""
            {"input": [12], "layers": [{"type": "lowrank_dense", "units": 9, "rank": 2}, {"type": "relu"}, {"type": "dense", "units": 3}]}
            """, file: nil))
        #expect(dense.parameters.entries.map(\.name) == lowRank.parameters.entries.map(\.name))
        #expect(dense.parameters.entries.map(\.shape) == lowRank.parameters.entries.map(\.shape))
    }

    @Test func replicaComputesTheSameOutput() {
        let layer = LowRankDense(inputShape: [5], units: 4, rank: 2)
        let store = ParameterStore(root: layer)
        var rng = RNG(seed: 5)
        layer.resetAllParameters(rng: &rng)
        let copy = layer.replica()
        _ = ParameterStore(root: copy, sharingWith: store)
        let x = Tensor(shape: [3, 5], values: (0..<15).map { Float($0) * 0.1 - 0.7 })
        let a = layer.forward(x, training: false).array
        #expect(copy.forward(x, training: false).array == a)
    }

    @Test func configRejectsAMissingRank() {
        #expect(throws: ConfigError.self) {
            _ = try Model(config: ConfigValue.parse(#"{"input": [4], "layers": [{"type": "lowrank_dense", "units": 2}]}"#, file: nil))
        }
    }
}
