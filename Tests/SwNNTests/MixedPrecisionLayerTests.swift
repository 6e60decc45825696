import Testing
import SwNN
import SwTensor

/// A layer with `gemmPrecision = .bf16` computes what the fp32 layer computes on operands
/// rounded to bf16 first (weights, inputs and output gradients; bias and gradients stay fp32):
/// forward, input gradient and weight gradient agree with that reference to fp32 accumulation
/// order (1e-5 of the largest value), and differ from the unrounded fp32 layer by far more
/// (the rounding really happens). Runs on every bf16 path (the portable switch too), and
/// `setGEMMPrecision` reaches the Dense layers inside a transformer block.
@Suite struct MixedPrecisionLayerTests {
    static func rounded(_ t: Tensor) -> Tensor {
        let r = Tensor(zeros: t.shape)
        for i in 0..<t.count { r.pointer[i] = BFloat16(t.pointer[i]).float }
        return r
    }

    static func maxRelative(_ a: Tensor, _ b: Tensor) -> Double {
        var d = 0.0, s = 1e-30
        for i in 0..<a.count {
            d = max(d, Double(abs(a.pointer[i] - b.pointer[i])))
            s = max(s, Double(abs(b.pointer[i])))
        }
        return d / s
    }

    /// Forward, dx and the parameter gradients of `make()` in bf16 on (x, dy), against fp32 on
    /// rounded weights, x and dy, and against fp32 on the raw ones. `exactBias`: the fp32 layer
    /// sums the bias gradient by the same loop as the bf16 one (not so for conv1d, whose fp32
    /// layer runs on the direct kernels, which sum it in their own order).
    static func check(_ label: String, inputShape: [Int], batch: Int, exactBias: Bool = true,
                      _ make: () -> any MixedPrecisionLayer) {
        var rng = RNG(seed: 11)
        func run(_ precision: GEMMPrecision, roundOperands: Bool, x: Tensor, dy: Tensor) -> [Tensor] {
            let layer = make()
            let store = ParameterStore(root: layer)
            var r = RNG(seed: 4)
            layer.resetAllParameters(rng: &r)
            layer.needsInputGradient = true
            layer.gemmPrecision = precision
            if roundOperands, let w = store.value("weight") {
                for i in 0..<w.count { w.pointer[i] = BFloat16(w.pointer[i]).float }
            }
            let xs = roundOperands ? rounded(x) : x, dys = roundOperands ? rounded(dy) : dy
            let y = layer.forward(xs, training: true).copy()
            store.zeroGradients()
            let dx = layer.backward(dys).copy()
            return [y, dx, store.gradient("weight")!.copy(), store.gradient("bias")!.copy()]
        }
        let x = Tensor(zeros: [batch] + inputShape)
        rng.fillUniform(x, -1, 1)
        let probe = make()
        let dy = Tensor(zeros: [batch] + probe.outputShape)
        rng.fillUniform(dy, -1, 1)
        let names = ["forward", "input gradient", "weight gradient", "bias gradient"]
        for path in [CPU.KernelPath.native, .portable] {
            CPU.withKernelPath(path) {
                let bf16 = run(.bf16, roundOperands: false, x: x, dy: dy)
                let reference = run(.fp32, roundOperands: true, x: x, dy: dy)
                let fp32 = run(.fp32, roundOperands: false, x: x, dy: dy)
                for i in 0..<3 {
                    #expect(maxRelative(bf16[i], reference[i]) < 1e-5, "\(label) \(path) \(names[i]): \(maxRelative(bf16[i], reference[i]))")
                    #expect(maxRelative(bf16[i], fp32[i]) > 1e-4, "\(label) \(path) \(names[i]) was not rounded")
                }
                // The bias gradient sums dy in fp32 outside the GEMMs: the fp32 layer's (exactly,
                // when both sum by the same loop).
                if exactBias {
                    #expect(bf16[3].array == fp32[3].array, "\(label) \(path) bias gradient")
                } else {
                    #expect(maxRelative(bf16[3], fp32[3]) < 1e-5, "\(label) \(path) bias gradient")
                }
            }
        }
    }

    @Test func denseIsTheFP32LayerOnRoundedOperands() {
        Self.check("dense", inputShape: [37], batch: 9) { Dense(inputShape: [37], units: 45) }
    }

    @Test func conv1dIsTheFP32LayerOnRoundedOperands() {
        Self.check("conv1d", inputShape: [3, 29], batch: 5, exactBias: false) { Conv1D(inputShape: [3, 29], channels: 7, kernel: 5, padding: 2) }
    }

    @Test func conv2dIsTheFP32LayerOnRoundedOperands() {
        Self.check("conv2d", inputShape: [2, 9, 11], batch: 3) { Conv2D(inputShape: [2, 9, 11], channels: 6, kernel: (3, 3), padding: (1, 1)) }
    }

    @Test func setGEMMPrecisionReachesNestedLayersAndReplicas() {
        let block = TransformerBlock(inputShape: [8, 16], heads: 2, mlpRatio: 4, dropout: 0)
        let set = block.setGEMMPrecision(.bf16)
        let mixed = block.allLayers().compactMap { $0.layer as? any MixedPrecisionLayer }
        #expect(set == 5 && mixed.count == 5, "the attention, qkv, proj and the two MLP layers")
        #expect(mixed.allSatisfy { $0.gemmPrecision == .bf16 })
        let copies = block.replica().allLayers().compactMap { $0.layer as? any MixedPrecisionLayer }
        #expect(copies.count == 5 && copies.allSatisfy { $0.gemmPrecision == .bf16 })
    }
}
