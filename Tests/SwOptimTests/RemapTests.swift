import Testing
import SwNN
import SwOptim
import SwTensor

/// The model-rewriting seam end to end: an Adam step, a rewrite that replaces one dense
/// layer by two (the low-rank case), the optimizer state moved through the same map, and
/// training going on.
@Suite struct RemapTests {
    static func model() -> Model {
        let layers: [any Layer] = [Dense(inputShape: [6], units: 8), ReLU(shape: [8]), Dense(inputShape: [8], units: 8),
                                   ReLU(shape: [8]), Dense(inputShape: [8], units: 3)]
        let m = Model(network: Sequential(layers, inputShape: [6]), loss: SoftmaxCrossEntropy(classes: 3))
        m.initialize(seed: 2)
        return m
    }

    /// Forward, loss and backward on a fixed batch; returns the gradient buffer.
    static func gradients(_ m: Model, seed: UInt64) -> Tensor {
        var rng = RNG(seed: seed)
        let x = Tensor(zeros: [5, 6]); rng.fillUniform(x, -1, 1)
        let y = Tensor(shape: [5], values: (0..<5).map { Float($0 % 3) })
        m.parameters.zeroGradients()
        let out = m.forward(x, training: true)
        let g = Tensor(zeros: out.shape)
        _ = m.loss.evaluate(output: out, targets: y, gradient: g, gradientScale: 1 / 5)
        m.backward(g)
        return m.parameters.gradients
    }

    /// One state buffer's values per tensor name.
    static func byName(_ t: Tensor, _ store: ParameterStore) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: store.entries.map { e in (e.name, Array(t.array[e.offset..<e.offset + e.count])) })
    }

    @Test(arguments: ["adam", "adamw"])
    func adamMomentsFollowARewrite(kind: String) throws {
        let m = Self.model()
        let opt: any Optimizer = kind == "adam" ? Adam(count: m.parameters.count, weightDecay: 0.01) : AdamW(count: m.parameters.count)
        opt.step(parameters: m.parameters.values, gradients: Self.gradients(m, seed: 1), lr: 0.01)
        let values = Self.byName(m.parameters.values, m.parameters)
        let moments = opt.stateTensors.map { Self.byName($0.tensor, m.parameters) }
        #expect(moments.allSatisfy { $0["2.weight"]!.contains { $0 != 0 } })

        let remap = try m.rewrite { path, layer in
            guard path == "2", let d = layer as? Dense else { return nil }
            return Sequential([Dense(inputShape: [8], units: 2, bias: false), Dense(inputShape: [2], units: d.outFeatures)],
                              inputShape: d.inputShape)
        }
        opt.remapState(remap)
        #expect(opt.count == m.parameters.count && remap.newCount == m.parameters.count)
        #expect(opt.stepCount == 1)
        let survivors = ["0.weight", "0.bias", "4.weight", "4.bias"]
        #expect(remap.carried.map(\.name) == survivors)
        #expect(remap.fresh.map(\.name) == ["2.0.weight", "2.1.weight", "2.1.bias"])
        let newValues = Self.byName(m.parameters.values, m.parameters)
        let newMoments = opt.stateTensors.map { Self.byName($0.tensor, m.parameters) }
        for name in survivors {
            #expect(newValues[name] == values[name], "\(name) values")
            for (old, new) in zip(moments, newMoments) { #expect(new[name] == old[name], "\(name) moments") }
        }
        for name in ["2.0.weight", "2.1.weight", "2.1.bias"] {
            for new in newMoments { #expect(new[name]!.allSatisfy { $0 == 0 }, "\(name) starts with zero moments") }
        }

        // The next step runs on the new layout and moves every tensor; the first moment of a
        // carried element is m + (1 − β1)(g − m) (g with Adam's L2 term), from its carried m.
        let g = Self.gradients(m, seed: 3)
        let before = m.parameters.values.copy()
        let m1 = opt.stateTensors[0].tensor.copy()
        opt.step(parameters: m.parameters.values, gradients: g, lr: 0.01)
        #expect(opt.stepCount == 2)
        for e in m.parameters.entries {
            let changed = (e.offset..<e.offset + e.count).contains { m.parameters.values.pointer[$0] != before.pointer[$0] }
            #expect(changed, "\(e.name) changes")
        }
        let expAvg = opt.stateTensors[0].tensor
        for c in remap.carried {
            for i in c.new {
                let gi = g.pointer[i] + (kind == "adam" ? 0.01 * before.pointer[i] : 0)   // Adam's L2 term
                let expected = m1.pointer[i] + (1 - 0.9) * (gi - m1.pointer[i])
                #expect(abs(expAvg.pointer[i] - expected) <= 1e-7 * max(1, abs(expected)), "\(c.name) element \(i)")
            }
        }
        #expect(m.parameters.values.array.allSatisfy { $0.isFinite })
    }

    /// Structured pruning: units of layers 0 and 2 removed (layer 2 loses inputs and outputs,
    /// layer 4 the matching inputs). The kept rows and columns keep their values and Adam
    /// moments element for element; nothing is fresh; training goes on.
    @Test func prunedUnitsKeepTheirMoments() throws {
        let m = Self.model()
        let opt = Adam(count: m.parameters.count)
        opt.step(parameters: m.parameters.values, gradients: Self.gradients(m, seed: 1), lr: 0.01)
        let oldStore = m.parameters
        let oldValues = m.parameters.values.copy(), oldMoments = opt.stateTensors.map { $0.tensor.copy() }
        let keep0 = [0, 2, 3, 7], keep2 = [1, 4, 5]
        let remap = try m.rewrite { path, layer in
            switch path {
            case "0": return (layer as! Dense).keeping(outputUnits: keep0)
            case "1": return ReLU(shape: [keep0.count])
            case "2": return (layer as! Dense).keeping(outputUnits: keep2).keeping(inputFeatures: keep0)
            case "3": return ReLU(shape: [keep2.count])
            case "4": return (layer as! Dense).keeping(inputFeatures: keep2)
            default: return nil
            }
        }
        opt.remapState(remap)
        #expect(m.parameters.entries.map(\.shape) == [[4, 6], [4], [3, 4], [3], [3, 3], [3]])
        #expect(remap.fresh.isEmpty && remap.dropped.isEmpty)
        // Element (new tensor, i) must hold old element (old tensor, source(i)).
        func source(_ name: String, _ i: Int) -> Int {
            let (rows, cols): ([Int]?, [Int]?) = switch name {
            case "0.weight": (keep0, nil)
            case "0.bias": (keep0, nil)
            case "2.weight": (keep2, keep0)
            case "2.bias": (keep2, nil)
            case "4.weight": (nil, keep2)
            default: (nil, nil)
            }
            let newShape = m.parameters.entry(name)!.shape, oldShape = oldStore.entry(name)!.shape
            let r = newShape.count == 2 ? i / newShape[1] : i, c = newShape.count == 2 ? i % newShape[1] : 0
            let (sr, sc) = (rows?[r] ?? r, cols?[c] ?? c)
            return oldStore.entry(name)!.offset + (oldShape.count == 2 ? sr * oldShape[1] + sc : sr)
        }
        for e in m.parameters.entries {
            for i in 0..<e.count {
                let o = source(e.name, i)
                #expect(m.parameters.values.pointer[e.offset + i] == oldValues.pointer[o], "\(e.name)[\(i)] value")
                for (new, old) in zip(opt.stateTensors.map(\.tensor), oldMoments) {
                    #expect(new.pointer[e.offset + i] == old.pointer[o], "\(e.name)[\(i)] moment")
                }
            }
        }
        let before = m.parameters.values.copy()
        opt.step(parameters: m.parameters.values, gradients: Self.gradients(m, seed: 3), lr: 0.01)
        #expect(m.parameters.values.array != before.array && m.parameters.values.array.allSatisfy { $0.isFinite })
    }

    /// A hand-made map with pieces in another order: momentum moves with its elements, fresh
    /// elements start at zero, and plain SGD (no state) only changes its count.
    @Test func sgdMomentumThroughAMap() {
        let sgd = SGD(count: 10, momentum: 0.9)
        let p = Tensor(zeros: [10]), g = Tensor(shape: [10], values: (1...10).map(Float.init))
        sgd.step(parameters: p, gradients: g, lr: 0.1)   // first step: buffer = g
        let remap = ParameterRemap(oldCount: 10, newCount: 12,
                                   carried: [.init(name: "b", old: 6..<10, new: 0..<4), .init(name: "a", old: 0..<4, new: 8..<12)],
                                   fresh: [.init(name: "c", range: 4..<8)], dropped: [.init(name: "d", range: 4..<6)])
        sgd.remapState(remap)
        #expect(sgd.count == 12)
        #expect(sgd.momentumBuffer!.array == [7, 8, 9, 10, 0, 0, 0, 0, 1, 2, 3, 4])
        let plain = SGD(count: 10)
        plain.remapState(remap)
        #expect(plain.count == 12 && plain.stateTensors.isEmpty)
        #expect(!remap.isIdentity && ParameterRemap.identity(count: 5).isIdentity && remap.carriedCount == 8)
    }
}
