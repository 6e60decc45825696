import SwTensor

/// The forward of an int8 convolution shared by `QuantizedConv1D` and `QuantizedConv2D`:
/// im2col of a chunk of samples, transposed so each output position's patch is a row
/// `(N, patch)`, then the int8 product with the weight `[out, patch]` (`Int8Matmul`, dynamic
/// rows = one patch each, or the static input parameters), then `y[s, o, p] = Y[s·P + p, o]`.
struct QuantizedConvKernel {
    let window: Window
    let outChannels: Int
    /// The most im2col values held at once.
    var maxColumnFloats = 1 << 22
    private var col: Tensor?, rows: Tensor?, result: Tensor?

    init(window: Window, outChannels: Int) {
        self.window = window
        self.outChannels = outChannels
    }

    mutating func forward(x: Tensor, batch: Int, engine: Int8Matmul, bias: UnsafePointer<Float>?,
                          input: (scale: Float, zeroPoint: Int32)?, y: Tensor) {
        let (P, K, O) = (window.positions, window.patch, outChannels)
        let chunk = max(1, min(batch, maxColumnFloats / max(1, P * K)))
        let c = scratch(&col, count: K * chunk * P)
        let r = scratch(&rows, count: K * chunk * P)
        let t = scratch(&result, count: O * chunk * P)
        var s0 = 0
        while s0 < batch {
            let n = min(chunk, batch - s0), N = n * P
            im2col(x.pointer + s0 * window.inputSize, window, samples: n, c)
            for kk in 0..<K {
                let src = c + kk * N
                for i in 0..<N { r[i * K + kk] = src[i] }
            }
            engine.run(m: N, x: r, y: t, bias: bias, input: input)
            for s in 0..<n {
                for o in 0..<O {
                    let dst = y.pointer + ((s0 + s) * O + o) * P, src = t + s * P * O + o
                    for p in 0..<P { dst[p] = src[p * O] }
                }
            }
            s0 += n
        }
    }
}

/// What `QuantizedConv1D` and `QuantizedConv2D` hold beyond their sizes.
struct QuantizedConvState {
    let granularity: WeightGranularity
    let activations: ActivationQuantization
    let useBias: Bool
    var kernel: QuantizedConvKernel
    var params: [Tensor] = []
    var engine: Int8Matmul?
    var out: Tensor?

    init(window: Window, outChannels: Int, bias: Bool, granularity: WeightGranularity, activations: ActivationQuantization) {
        self.granularity = granularity
        self.activations = activations
        self.useBias = bias
        kernel = QuantizedConvKernel(window: window, outChannels: outChannels)
    }

    func parameterShapes(weight: [Int]) -> [(name: String, shape: [Int])] {
        quantizedParameterShapes(out: weight[0], weight: weight, granularity: granularity, activations: activations, bias: useBias)
    }

    mutating func bind(_ parameters: [Tensor]) { params = parameters; engine = nil }

    func reset(names: [String]) {
        for (t, name) in zip(params, names) { t.pointer.update(repeating: name.hasSuffix("scale") ? 1 : 0, count: t.count) }
    }

    mutating func forward(_ x: Tensor, inputShape: [Int], outputShape: [Int], training: Bool) -> Tensor {
        let b = batchSize(x, inputShape)
        let y = reuseBatch(out, batch: b, sample: outputShape)
        out = y
        if engine == nil || training {
            engine = Int8Matmul(n: kernel.outChannels, k: kernel.window.patch, weight: params[0].pointer,
                                scales: params[1].pointer, scaleCount: params[1].count)
        }
        kernel.forward(x: x, batch: b, engine: engine!, bias: useBias ? params.last!.pointer : nil,
                       input: staticInput(params, activations), y: y)
        return y
    }
}
