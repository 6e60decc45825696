import CKernels
import SwTensor

/// The forward of an int8 convolution shared by `QuantizedConv1D` and `QuantizedConv2D`:
/// the chunk's input copied channels-last (`[H, W, C]`), each output position's patch gathered
/// as a row `(N, patch)` of plain runs of `kw · C` values (`im2row`), the int8 product with the
/// weight `[out, patch]` (`Int8Matmul`, packed with its columns in the same `(i, j, c)` order:
/// integer sums do not depend on the order, so the result is that of the `(c, i, j)` layout),
/// then `y[s, o, p] = Y[s·P + p, o]`. Static input: the input is quantized once and gathered as
/// uint8 (padding is the zero point, the quantized 0) — the bytes quantizing the float rows
/// would give; dynamic: float rows, quantized per row (one range per patch).
struct QuantizedConvKernel {
    let window: Window
    let outChannels: Int
    /// The most im2col values held at once.
    var maxColumnFloats = 1 << 22
    private var rows: Tensor?, result: Tensor?, last: Tensor?
    private var qx: [UInt8] = [], qlast: [UInt8] = [], qrows: [UInt8] = []

    init(window: Window, outChannels: Int) {
        self.window = window
        self.outChannels = outChannels
    }

    /// The weight `[out, C, kh, kw]` with each row in the patch order of `im2row`, `(i, j, c)`.
    func patchOrderWeight(_ w: UnsafePointer<Float>) -> [Float] {
        let (C, kh, kw, K) = (window.channels, window.kh, window.kw, window.patch)
        var out = [Float](repeating: 0, count: outChannels * K)
        for o in 0..<outChannels {
            for c in 0..<C {
                for t in 0..<kh * kw { out[o * K + t * C + c] = w[o * K + c * kh * kw + t] }
            }
        }
        return out
    }

    mutating func forward(x: Tensor, batch: Int, engine: Int8Matmul, bias: UnsafePointer<Float>?,
                          input: (scale: Float, zeroPoint: Int32)?, y: Tensor) {
        let (P, K, O, S) = (window.positions, window.patch, outChannels, window.inputSize)
        let chunk = max(1, min(batch, maxColumnFloats / max(1, P * K)))
        let t = scratch(&result, count: O * chunk * P)
        if input != nil, qrows.count < chunk * P * K {
            qx = [UInt8](repeating: 0, count: chunk * S)
            qlast = qx
            qrows = [UInt8](repeating: 0, count: chunk * P * K)
        }
        var s0 = 0
        while s0 < batch {
            let n = min(chunk, batch - s0), N = n * P
            let xs = x.pointer + s0 * S
            if let input {
                qx.withUnsafeMutableBufferPointer { qxp in
                    qlast.withUnsafeMutableBufferPointer { qlp in
                        qrows.withUnsafeMutableBufferPointer { qrp in
                            swt_quantize_u8(n * S, xs, 1 / input.scale, input.zeroPoint, qxp.baseAddress!)
                            channelsLast(UnsafePointer(qxp.baseAddress!), window, samples: n, qlp.baseAddress!)
                            im2row(UnsafePointer(qlp.baseAddress!), window, samples: n, qrp.baseAddress!, pad: UInt8(input.zeroPoint))
                            engine.run(m: N, x: xs, quantized: UnsafePointer(qrp.baseAddress!), bias: bias, input: input, output: .float(t))
                        }
                    }
                }
            } else {
                let r = scratch(&rows, count: K * chunk * P), cl = scratch(&last, count: chunk * S)
                channelsLast(UnsafePointer(xs), window, samples: n, cl)
                im2row(UnsafePointer(cl), window, samples: n, r, pad: 0)
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

/// `samples` inputs `[C, H, W]` copied channels-last, `[H, W, C]`.
func channelsLast<T>(_ x: UnsafePointer<T>, _ g: Window, samples: Int, _ out: UnsafeMutablePointer<T>) {
    let (C, HW) = (g.channels, g.height * g.width)
    for s in 0..<samples {
        let xs = x + s * C * HW, os = out + s * C * HW
        for c in 0..<C {
            let src = xs + c * HW
            for p in 0..<HW { os[p * C + c] = src[p] }
        }
    }
}

/// im2row over channels-last inputs `x` (`[H, W, C]` per sample): row `s · P + (oh · Wo + ow)`
/// of `rows` (`(samples · P, patch)`) holds the patch under output position `(oh, ow)` of
/// sample `s` in `(i, j, c)` order — for each kernel row `i` the `kw · C` values
/// `x[h, w0 ..< w0 + kw, :]`, one plain copy — with `pad` where the window leaves the input.
func im2row<T>(_ x: UnsafePointer<T>, _ g: Window, samples: Int, _ rows: UnsafeMutablePointer<T>, pad: T) {
    let (H, W, C, kh, kw) = (g.height, g.width, g.channels, g.kh, g.kw)
    let run = kw * C
    var dst = rows
    for s in 0..<samples {
        let xs = x + s * g.inputSize
        for oh in 0..<g.outHeight {
            let h0 = oh * g.sh - g.ph
            for ow in 0..<g.outWidth {
                let w0 = ow * g.sw - g.pw
                let lo = min(kw, max(0, -w0)), hi = max(lo, min(kw, W - w0))   // taps inside: lo ..< hi
                for i in 0..<kh {
                    let h = h0 + i
                    if h < 0 || h >= H {
                        dst.update(repeating: pad, count: run)
                    } else {
                        if lo > 0 { dst.update(repeating: pad, count: lo * C) }
                        if hi > lo { (dst + lo * C).update(from: xs + (h * W + w0 + lo) * C, count: (hi - lo) * C) }
                        if hi < kw { (dst + hi * C).update(repeating: pad, count: (kw - hi) * C) }
                    }
                    dst += run
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
            let w = kernel.patchOrderWeight(params[0].pointer)
            engine = Int8Matmul(n: kernel.outChannels, k: kernel.window.patch, weight: w, scales: params[1].pointer,
                                scaleCount: params[1].count)
        }
        kernel.forward(x: x, batch: b, engine: engine!, bias: useBias ? params.last!.pointer : nil,
                       input: staticInput(params, activations), y: y)
        return y
    }
}
