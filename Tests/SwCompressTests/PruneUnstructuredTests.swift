import Testing
import SwCompress
import SwConfig
import SwNN
import SwTensor

/// One-shot unstructured magnitude pruning hits the sparsity exactly, per layer or over the
/// whole model, zeroing the smallest magnitudes and never a bias.
@Suite struct PruneUnstructuredTests {
    static func model() throws -> Model {
        let m = try Model(config: try ConfigValue.parse("""
            {"input": [20], "layers": [{"type": "dense", "units": 30}, {"type": "relu"},
             {"type": "residual", "layers": [{"type": "dense", "units": 30}]}, {"type": "dense", "units": 7}]}
            """, file: nil))
        m.initialize(seed: 9)
        return m
    }

    @Test(arguments: [0.5, 0.9, 0.95])
    func layerScopeIsExactInEveryLayer(sparsity: Double) throws {
        let m = try Self.model()
        let biases = m.parameters.entries.filter { $0.name.hasSuffix("bias") }.map { m.parameters.value($0.name)!.array }
        let targets = try UnstructuredPruning.targets(m, paths: [])
        #expect(targets.map(\.path) == ["0", "2.layers.0", "3"])
        let counts = UnstructuredPruning.apply(targets, sparsity: sparsity, scope: .layer)
        for (t, c) in zip(targets, counts) {
            let w = t.layer.prunableWeight.array
            let expected = MagnitudePruning.prunedCount(sparsity: sparsity, count: w.count)
            #expect(c.zeros == expected && w.filter { $0 == 0 }.count == expected, "\(t.path)")
        }
        #expect(m.parameters.entries.filter { $0.name.hasSuffix("bias") }.map { m.parameters.value($0.name)!.array } == biases)
    }

    @Test(arguments: [0.5, 0.8, 0.95])
    func globalScopeIsExactOverTheModelAndPrunesTheSmallest(sparsity: Double) throws {
        let m = try Self.model()
        let targets = try UnstructuredPruning.targets(m, paths: [])
        let before = targets.map { $0.layer.prunableWeight.array }
        let counts = UnstructuredPruning.apply(targets, sparsity: sparsity, scope: .global)
        let total = before.reduce(0) { $0 + $1.count }
        #expect(counts.reduce(0) { $0 + $1.zeros } == MagnitudePruning.prunedCount(sparsity: sparsity, count: total))
        // Every pruned |w| is at most every kept |w|, across layers.
        var maxPruned: Float = 0, minKept: Float = .infinity
        for (t, old) in zip(targets, before) {
            let now = t.layer.prunableWeight.array
            for i in 0..<old.count {
                if now[i] == 0 { maxPruned = max(maxPruned, abs(old[i])) } else { minKept = min(minKept, abs(old[i])); #expect(now[i] == old[i]) }
            }
        }
        #expect(maxPruned <= minKept)
        // Layers differ in sparsity under a global threshold (the last layer's weights are larger).
        #expect(Set(counts.map(\.zeros)).count > 1)
    }

    @Test func pruningAgainAtTheSameSparsityFindsTheSameZeros() throws {
        let m = try Self.model()
        let targets = try UnstructuredPruning.targets(m, paths: [])
        UnstructuredPruning.apply(targets, sparsity: 0.9, scope: .global)
        let once = m.parameters.values.array
        UnstructuredPruning.apply(targets, sparsity: 0.9, scope: .global)
        #expect(m.parameters.values.array == once)
    }

    @Test func unknownLayerPathIsRefusedWithTheValidOnes() throws {
        let m = try Self.model()
        #expect { try UnstructuredPruning.targets(m, paths: ["1"]) } throws: { e in
            "\(e)".contains("--layers 1") && "\(e)".contains("0, 2.layers.0, 3")
        }
        #expect(try UnstructuredPruning.targets(m, paths: ["3"]).map(\.path) == ["3"])
    }
}
