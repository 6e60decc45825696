import Foundation
import Testing
import SwCompress
import SwConfig
import SwNN
import SwTensor

/// Structured pruning: the smaller model computes what the original computes with the removed
/// units masked out (their weights, biases and the next layer's matching inputs zeroed), for a
/// dense MLP and for conv nets (through pools and flatten); refusals name the blocking layer.
@Suite struct PruneStructuredTests {
    static func model(_ text: String, seed: UInt64 = 3) throws -> (Model, JSON) {
        let doc = try ConfigValue.parse(text, file: nil)
        guard case .object(let o) = doc.json, let layers = o["layers"] else { throw CompressError("no layers") }
        let m = try Model(config: doc)
        m.initialize(seed: seed)
        // Non-zero biases everywhere, so a kept bias that moved would show.
        var rng = RNG(seed: seed + 1)
        for e in m.parameters.entries where e.name.hasSuffix("bias") { rng.fillUniform(m.parameters.value(e.name)!, -0.5, 0.5) }
        return (m, layers)
    }

    /// A copy of `m` whose removed units are masked: producer rows and biases, consumer input columns zeroed.
    static func masked(_ m: Model, text: String, groups: [StructuredGroup], kept: [String: [Int]]) throws -> Model {
        let c = try Model(config: try ConfigValue.parse(text, file: nil))
        c.parameters.values.pointer.update(from: m.parameters.values.pointer, count: m.parameters.count)
        for g in groups {
            let keep = Set(kept[g.producerPath]!)
            let producer = c.network.layer(at: g.producerPath)!
            let p = producer as! any Prunable
            let w = p.prunableWeight, per = w.count / p.outputUnits
            for o in 0..<p.outputUnits where !keep.contains(o) {
                for i in 0..<per { w.pointer[o * per + i] = 0 }
                if producer.parameterTensors.count > 1 { producer.parameterTensors[1].pointer[o] = 0 }
            }
            // Consumer inputs fed by removed units: through a flatten each unit is `spatial` positions.
            let cons = c.network.layer(at: g.consumerPath) as! any Prunable
            let cw = cons.prunableWeight
            let inner = cw.count / cons.outputUnits / cons.inputFeatures
            let spatial = cons.inputFeatures / p.outputUnits
            for o in 0..<cons.outputUnits {
                for f in 0..<cons.inputFeatures where !keep.contains(f / spatial) {
                    for k in 0..<inner { cw.pointer[(o * cons.inputFeatures + f) * inner + k] = 0 }
                }
            }
        }
        return c
    }

    static func check(_ text: String, input: [Int], keep: (Int) -> Int, expectShapes: [[Int]]) throws {
        let (m, layersJSON) = try model(text)
        let plan = StructuredPruning.plan(m)
        let groups = plan.compactMap(\.group)
        var kept: [String: [Int]] = [:]
        for g in groups {
            let p = m.network.layer(at: g.producerPath) as! any Prunable
            kept[g.producerPath] = StructuredPruning.keptUnits(p, keep: keep(p.outputUnits))
        }
        let reference = try masked(m, text: text, groups: groups, kept: kept)
        var rng = RNG(seed: 11)
        let x = Tensor(zeros: [5] + input)
        rng.fillUniform(x, -1, 1)
        let expected = reference.forward(x, training: false).array
        let newLayers = try StructuredPruning.apply(m, groups: groups, kept: kept, layersJSON: layersJSON)
        #expect(m.parameters.entries.map(\.shape) == expectShapes)
        let y = m.forward(x, training: false).array
        #expect(y.count == expected.count)
        let scale = expected.map { abs($0) }.max()!
        for i in 0..<y.count { #expect(abs(y[i] - expected[i]) <= 1e-5 * max(1, scale), "output \(i): \(y[i]) vs \(expected[i])") }
        // The rewritten config builds the same architecture.
        guard case .object(var o) = try ConfigValue.parse(text, file: nil).json else { return }
        o["layers"] = newLayers
        let rebuilt = try Model(config: ConfigValue(.object(o)))
        #expect(rebuilt.parameters.entries.map(\.name) == m.parameters.entries.map(\.name))
        #expect(rebuilt.parameters.entries.map(\.shape) == m.parameters.entries.map(\.shape))
    }

    @Test func denseMLPEqualsTheMaskedOriginal() throws {
        try Self.check("""
            {"input": [12], "layers": [{"type": "dense", "units": 10}, {"type": "relu"}, {"type": "dense", "units": 9},
             {"type": "tanh"}, {"type": "dropout", "p": 0.3}, {"type": "dense", "units": 4}]}
            """, input: [12], keep: { $0 / 2 }, expectShapes: [[5, 12], [5], [4, 5], [4], [4, 4], [4]])
    }

    @Test func conv1DThroughPoolAndFlattenEqualsTheMaskedOriginal() throws {
        try Self.check("""
            {"input": [2, 16], "layers": [{"type": "conv1d", "channels": 6, "kernel": 3}, {"type": "relu"},
             {"type": "maxpool1d", "kernel": 2}, {"type": "conv1d", "channels": 5, "kernel": 3, "padding": 1}, {"type": "relu"},
             {"type": "flatten"}, {"type": "dense", "units": 7}, {"type": "relu"}, {"type": "dense", "units": 3}]}
            """, input: [2, 16], keep: { $0 - 2 }, expectShapes: [[4, 2, 3], [4], [3, 4, 3], [3], [5, 21], [5], [3, 5], [3]])
    }

    @Test func conv2DEqualsTheMaskedOriginal() throws {
        try Self.check("""
            {"input": [1, 6, 6], "layers": [{"type": "conv2d", "channels": 4, "kernel": 3}, {"type": "relu"},
             {"type": "flatten"}, {"type": "dense", "units": 6}, {"type": "gelu"}, {"type": "dense", "units": 3}]}
            """, input: [1, 6, 6], keep: { $0 / 2 }, expectShapes: [[2, 1, 3, 3], [2], [3, 32], [3], [3, 3], [3]])
    }

    static let residualModel = """
        {"input": [6], "layers": [{"type": "dense", "units": 8}, {"type": "relu"},
         {"type": "residual", "layers": [{"type": "dense", "units": 8}, {"type": "relu"}]}, {"type": "dense", "units": 3}]}
        """

    @Test func residualBlocksAreNamedInThePlan() throws {
        let (m, _) = try Self.model(Self.residualModel)
        let plan = StructuredPruning.plan(m)
        #expect(plan.map(\.path) == ["0", "3", "2.layers.0"])
        #expect(plan.allSatisfy { $0.group == nil })
        #expect(plan[0].reason!.contains("residual at 2"))
        #expect(plan[0].reason!.contains("width is fixed"))
        #expect(plan[1].reason == "it produces the model's output")
        #expect(plan[2].reason!.contains("output of the residual body 2.layers"))
    }

    @Test func transformerBlocksAreNamedInThePlan() throws {
        let (m, _) = try Self.model("""
            {"input": [4, 8], "layers": [{"type": "dense", "units": 8}, {"type": "transformer_block", "heads": 2},
             {"type": "flatten"}, {"type": "dense", "units": 3}]}
            """)
        let plan = StructuredPruning.plan(m)
        #expect(plan.map(\.path) == ["0", "3"])
        #expect(plan[0].group == nil && plan[0].reason!.contains("transformer_block at 1"))
    }

    @Test func unitsInsideAResidualBodyEqualTheMaskedOriginal() throws {
        try Self.check("""
            {"input": [8], "layers": [{"type": "dense", "units": 8}, {"type": "relu"},
             {"type": "residual", "layers": [{"type": "dense", "units": 16}, {"type": "silu"}, {"type": "dense", "units": 8}]},
             {"type": "dense", "units": 3}]}
            """, input: [8], keep: { $0 / 4 }, expectShapes: [[8, 8], [8], [4, 8], [4], [8, 4], [8], [3, 8], [3]])
    }
}
