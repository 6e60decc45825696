import CKernels
import SwTensor

/// The forward of an int8 convolution shared by `QuantizedConv1D` and `QuantizedConv2D`:
/// each output position's patch gathered as a row `(N, patch)` (`im2row`), the int8 product
/// with the weight `[out, patch]` (`Int8Matmul`), then `y[s, o, p] = Y[s·P + p, o]`.
/// Static input: the chunk's input is quantized once and the rows gathered as uint8 (padding
/// is the zero point, the quantized 0), which gives the bytes quantizing the float rows would;
/// dynamic: float rows, quantized per row (one range per patch).
struct QuantizedConvKernel {
    let window: Window
    let outChannels: Int
    /// The most im2col values held at once.
    var maxColumnFloats = 1 << 22
    private var rows: Tensor?, result: Tensor?
    private var qx: [UInt8] = [], qrows: [UInt8] = []

    init(window: Window, outChannels: Int) {
        self.window = window
        self.outChannels = outChannels
    }

    mutating func forward(x: Tensor, batch: Int, engine: Int8Matmul, bias: UnsafePointer<Float>?,
                          input: (scale: Float, zeroPoint: Int32)?, y: Tensor) {
        let (P, K, O) = (window.positions, window.patch, outChannels)
        let chunk = max(1, min(batch, maxColumnFloats / max(1, P * K)))
        let r = scratch(&rows, count: K * chunk * P)
        let t = scratch(&result, count: O * chunk * P)
        if input != nil, qx.count < chunk * window.inputSize || qrows.count < chunk * P * K {
            qx = [UInt8](repeating: 0, count: chunk * window.inputSize)
            qrows = [UInt8](repeating: 0, count: chunk * P * K)
        }
        var s0 = 0
        while s0 < batch {
            let n = min(chunk, batch - s0), N = n * P
            let xs = x.pointer + s0 * window.inputSize
            if let input {
                qx.withUnsafeMutableBufferPointer { qxp in
                    qrows.withUnsafeMutableBufferPointer { qrp in
                        swt_quantize_u8(n * window.inputSize, xs, 1 / input.scale, input.zeroPoint, qxp.baseAddress!)
                        im2row(UnsafePointer(qxp.baseAddress!), window, samples: n, qrp.baseAddress!, pad: UInt8(input.zeroPoint))
                        engine.run(m: N, x: r, quantized: UnsafePointer(qrp.baseAddress!), bias: bias, input: input, output: .float(t))
                    }
                }
            } else {
                im2row(UnsafePointer(xs), window, samples: n, r, pad: 0)
                engine.run(m: N, x: r, y: t, bias: bias, input: nil)
            }
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

/// im2row: row `s · P + (oh · Wo + ow)` of `rows` (`(samples · P, patch)`) holds the patch under
/// output position `(oh, ow)` of sample `s`, in the order of a weight row `[out, in, kh, kw]`
/// (as `im2col`'s rows); `pad` where the window leaves the input.
func im2row<T>(_ x: UnsafePointer<T>, _ g: Window, samples: Int, _ rows: UnsafeMutablePointer<T>, pad: T) {
    let (H, W, C, kh, kw) = (g.height, g.width, g.channels, g.kh, g.kw)
    var dst = rows
    for s in 0..<samples {
        let xs = x + s * g.inputSize
        for oh in 0..<g.outHeight {
            let h0 = oh * g.sh - g.ph
            for ow in 0..<g.outWidth {
                let w0 = ow * g.sw - g.pw
                let inside = w0 >= 0 && w0 + kw <= W
                for c in 0..<C {
                    for i in 0..<kh {
                        let h = h0 + i
                        if h < 0 || h >= H {
                            for j in 0..<kw { dst[j] = pad }
                        } else {
                            let src = xs + (c * H + h) * W + w0
                            if inside {
                                for j in 0..<kw { dst[j] = src[j] }
                            } else {
                                for j in 0..<kw { dst[j] = w0 + j >= 0 && w0 + j < W ? src[j] : pad }
                            }
                        }
                        dst += kw
                    }
                }
            }
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
