import CKernels
import SwTensor

/// The geometry of a 2-D sliding window over samples `(C, H, W)`; a 1-D window over `(C, L)`
/// is the case `H = 1`, `kh = 1`, `sh = 1`, `ph = 0`. Output sizes follow PyTorch
/// (`ceil_mode=False`): `Ho = (H + 2 ph - kh) / sh + 1`.
struct Window: Equatable, Sendable {
    var channels: Int, height: Int, width: Int
    var kh: Int, kw: Int
    var sh: Int, sw: Int
    var ph: Int, pw: Int

    /// A 1-D window over `(channels, length)`.
    static func line(channels: Int, length: Int, kernel: Int, stride: Int, padding: Int) -> Window {
        Window(channels: channels, height: 1, width: length, kh: 1, kw: kernel, sh: 1, sw: stride, ph: 0, pw: padding)
    }

    /// A pooling window for samples `[C, L]` (1-D: kernel, stride, padding as `.0`) or
    /// `[C, H, W]` (2-D), checked as PyTorch checks it (padding at most half the kernel, the
    /// kernel fits). Returns the window and the pooled sample shape.
    static func pooling(_ typeName: String, inputShape: [Int], kernel: (Int, Int), stride: (Int, Int),
                        padding: (Int, Int)) -> (window: Window, outputShape: [Int]) {
        let w: Window
        if inputShape.count == 2 {
            w = .line(channels: inputShape[0], length: inputShape[1], kernel: kernel.0, stride: stride.0, padding: padding.0)
        } else {
            precondition(inputShape.count == 3, "\(typeName) needs samples of shape [channels, (height,) width], got \(inputShape)")
            w = Window(channels: inputShape[0], height: inputShape[1], width: inputShape[2],
                       kh: kernel.0, kw: kernel.1, sh: stride.0, sw: stride.1, ph: padding.0, pw: padding.1)
        }
        precondition(w.kh > 0 && w.kw > 0 && w.sh > 0 && w.sw > 0 && w.ph >= 0 && w.pw >= 0)
        precondition(2 * w.ph <= w.kh && 2 * w.pw <= w.kw, "\(typeName): padding must be at most half the kernel")
        precondition(w.isValid, "\(typeName): the kernel does not fit \(inputShape)")
        return (w, inputShape.count == 2 ? [w.channels, w.outWidth] : [w.channels, w.outHeight, w.outWidth])
    }

    var outHeight: Int { (height + 2 * ph - kh) / sh + 1 }
    var outWidth: Int { (width + 2 * pw - kw) / sw + 1 }
    /// Output positions per channel.
    var positions: Int { outHeight * outWidth }
    /// Values in one patch: `channels * kh * kw`.
    var patch: Int { channels * kh * kw }
    /// Elements of one input sample.
    var inputSize: Int { channels * height * width }
    /// Whether every output size is at least 1.
    var isValid: Bool { height + 2 * ph - kh >= 0 && width + 2 * pw - kw >= 0 }

    /// Calls `body(q, o, rows, columns)` for every plane `q` in `0..<planes` (a channel of a
    /// sample) and every output position of it in row-major order: `o` is the flat index of the
    /// output `(q, oh, ow)`, `rows` × `columns` the part of its window inside the plane (padding
    /// cut off). The pooling layers' loops; inlined, so `body` is too.
    @inline(__always)
    func forEachWindow(planes: Int, _ body: (_ plane: Int, _ output: Int, _ rows: Range<Int>, _ columns: Range<Int>) -> Void) {
        let (Ho, Wo) = (outHeight, outWidth)
        var o = 0
        for q in 0..<planes {
            for oh in 0..<Ho {
                let h0 = oh * sh - ph
                let rows = max(h0, 0)..<min(h0 + kh, height)
                for ow in 0..<Wo {
                    let w0 = ow * sw - pw
                    body(q, o, rows, max(w0, 0)..<min(w0 + kw, width))
                    o += 1
                }
            }
        }
    }
}

/// im2col, one row per weight column: `col` is `(patch, samples * positions)`; row
/// `(c, i, j)` (the order of a weight row `[out, in, kh, kw]`) holds, for every sample and
/// output position `(oh, ow)`, the input value under kernel tap `(i, j)`; padding reads as zero.
/// Each run along `ow` is a plain (for stride 1, contiguous) copy, so the loops vectorise.
func im2col(_ x: UnsafePointer<Float>, _ g: Window, samples: Int, _ col: UnsafeMutablePointer<Float>) {
    let (H, W, Ho, Wo, P) = (g.height, g.width, g.outHeight, g.outWidth, g.positions)
    let N = samples * P, sw = g.sw
    var dst0 = col
    for c in 0..<g.channels {
        for i in 0..<g.kh {
            for j in 0..<g.kw {
                let (lo, hi, off) = g.validColumns(tap: j)
                for s in 0..<samples {
                    let xs = x + (s * g.channels + c) * H * W
                    for oh in 0..<Ho {
                        let dst = dst0 + s * P + oh * Wo
                        let h = oh * g.sh - g.ph + i
                        if h < 0 || h >= H {
                            for ow in 0..<Wo { dst[ow] = 0 }
                            continue
                        }
                        let src = xs + h * W + off               // src[ow * sw] = x[h, ow sw - pw + j]
                        for ow in 0..<lo { dst[ow] = 0 }
                        if sw == 1 {
                            for ow in lo..<hi { dst[ow] = src[ow] }
                        } else {
                            for ow in lo..<hi { dst[ow] = src[ow &* sw] }   // wrapping: no overflow check
                        }
                        for ow in hi..<Wo { dst[ow] = 0 }
                    }
                }
                dst0 += N
            }
        }
    }
}

/// The adjoint of `im2col`: adds every value of `col` (`(patch, samples * positions)`) back
/// into `dx` (which it does not clear), skipping padding.
func col2im(_ col: UnsafePointer<Float>, _ g: Window, samples: Int, _ dx: UnsafeMutablePointer<Float>) {
    let (H, W, Ho, Wo, P) = (g.height, g.width, g.outHeight, g.outWidth, g.positions)
    let N = samples * P, sw = g.sw
    var src0 = col
    for c in 0..<g.channels {
        for i in 0..<g.kh {
            for j in 0..<g.kw {
                let (lo, hi, off) = g.validColumns(tap: j)
                for s in 0..<samples {
                    let xs = dx + (s * g.channels + c) * H * W
                    for oh in 0..<Ho {
                        let h = oh * g.sh - g.ph + i
                        if h < 0 || h >= H { continue }
                        let src = src0 + s * P + oh * Wo
                        let dst = xs + h * W + off
                        if sw == 1 {
                            for ow in lo..<hi { dst[ow] += src[ow] }
                        } else {
                            for ow in lo..<hi { dst[ow &* sw] += src[ow] }
                        }
                    }
                }
                src0 += N
            }
        }
    }
}

extension Window {
    /// For kernel column `j`: the output columns `lo..<hi` that read inside the input, and the
    /// input offset `j - pw` (input column = `ow * sw + off`).
    @inline(__always)
    func validColumns(tap j: Int) -> (Int, Int, Int) {
        let off = j - pw
        let lo = off >= 0 ? 0 : min(outWidth, (-off + sw - 1) / sw)
        let hi = width - 1 - off < 0 ? 0 : min(outWidth, (width - 1 - off) / sw + 1)
        return (lo, max(lo, hi), off)
    }
}

/// Forward and backward of a convolution (cross-correlation, as PyTorch) by im2col + GEMM,
/// shared by `Conv1D` and `Conv2D`.
///
/// Samples are processed in chunks whose im2col matrix holds at most `maxColumnFloats` values
/// (the whole batch for small layers). Per chunk of `n` samples, with `N = n * positions`:
/// - forward: `col (patch, N) = im2col(x)`, `t (out, N) = W col`, `y[s, o, :] = t[o, s, :] + b[o]`
/// - backward: `t (out, N)` = dy with sample and channel swapped; `dW += t col^T`;
///   `db += sum dy`; `dcol = W^T t` (into the `col` buffer); `dx = col2im(dcol)`.
/// When the batch is one chunk, backward reuses the forward's im2col matrix.
///
/// A 1-D window (`isLine`) of at most 32 input and 32 output channels at fp32 runs instead on
/// the direct kernels (`Conv1DDirect`): no im2col matrix, no layout change, y, dx and dW
/// straight from and to the layer's `(samples, channels, positions)` tensors.
struct ConvKernel {
    let window: Window
    let outChannels: Int
    /// The most im2col values held at once (16 MiB); smaller in tests to exercise chunking.
    var maxColumnFloats = 1 << 22
    /// The precision of the three GEMMs (fp32, or bf16 operands with fp32 accumulation).
    var precision: GEMMPrecision = .fp32
    /// Whether shapes the direct kernels take go to them (tests turn it off to exercise im2col).
    var allowsDirect = true

    private var direct: Tensor?    // the direct kernels' workspace
    private var col: Tensor?       // (patch, N): im2col of the chunk, then its gradient
    private var trans: Tensor?     // (out, N): GEMM output in forward, dy reordered in backward
    private var colHoldsBatch = false

    init(window: Window, outChannels: Int) {
        self.window = window
        self.outChannels = outChannels
    }

    private func chunkSamples(_ batch: Int) -> Int {
        max(1, min(batch, maxColumnFloats / max(1, window.positions * window.patch)))
    }

    /// `y (B, out, positions) = conv(x (B, C, H, W))`.
    mutating func forward(x: Tensor, batch: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: Tensor) {
        if let d = directCall(batch: batch) {
            d.forward(x: x.pointer, weight: weight, bias: bias, y: y.pointer, workspace: scratch(&direct, count: d.workspaceCount))
            colHoldsBatch = false
            return
        }
        let (P, K, O) = (window.positions, window.patch, outChannels)
        let chunk = chunkSamples(batch)
        let c = scratch(&col, count: K * chunk * P)
        let t = scratch(&trans, count: O * chunk * P)
        var s0 = 0
        while s0 < batch {
            let n = min(chunk, batch - s0), N = n * P
            lower(x.pointer + s0 * window.inputSize, samples: n, c)
            // t (out, N) = W (out, K) col (K, N)
            BLAS.gemm(transA: false, transB: false, m: O, n: N, k: K, a: weight, b: c, beta: 0, c: t, precision: precision)
            swt_conv1d_bias_scatter(n, O, P, t, bias, y.pointer + s0 * O * P)
            s0 += n
        }
        colHoldsBatch = chunk >= batch
    }

    /// Accumulates `dW`, `db` from `dy (B, out, positions)`; writes `dx` when given.
    mutating func backward(x: Tensor, dy: Tensor, batch: Int, weight: UnsafePointer<Float>,
                           dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>?, dx: Tensor?) {
        let (P, K, O) = (window.positions, window.patch, outChannels)
        if let d = directCall(batch: batch) {
            d.backward(x: x.pointer, dy: dy.pointer, weight: weight, dWeight: dWeight, dBias: dBias, dx: dx?.pointer,
                       workspace: scratch(&direct, count: d.workspaceCount))
            return
        }
        if let dBias { swt_conv1d_bias_sum(batch, O, P, dy.pointer, dBias) }
        let chunk = chunkSamples(batch)
        let c = scratch(&col, count: K * chunk * P)
        let t = scratch(&trans, count: O * chunk * P)
        dx?.zero()
        var s0 = 0
        while s0 < batch {
            let n = min(chunk, batch - s0), N = n * P
            if !(colHoldsBatch && s0 == 0) {
                lower(x.pointer + s0 * window.inputSize, samples: n, c)
            }
            swt_conv1d_gather(n, O, P, dy.pointer + s0 * O * P, t)
            // dW (out, K) += t (out, N) col^T (N, K)
            BLAS.gemm(transA: false, transB: true, m: O, n: K, k: N, a: t, b: c, beta: 1, c: dWeight, precision: precision)
            if let dx {
                // dcol (K, N) = W^T (K, out) t (out, N), written over col
                BLAS.gemm(transA: true, transB: false, m: K, n: N, k: O, a: weight, b: t, beta: 0, c: c, precision: precision)
                raise(c, samples: n, dx.pointer + s0 * window.inputSize)
            }
            s0 += n
        }
        colHoldsBatch = false
    }

    /// Whether the window is 1-D (one row, no vertical taps or padding): then im2col and
    /// col2im run as the C loops of `ckernels_conv.h`, the same values and order of adds.
    private var isLine: Bool { window.height == 1 && window.kh == 1 && window.ph == 0 }

    /// The direct kernels' call for this batch, or nil when the shape or precision is not theirs
    /// (bf16 keeps the im2col GEMMs and their operand rounding).
    private func directCall(batch: Int) -> Conv1DDirect? {
        guard allowsDirect, precision == .fp32, isLine,
              Conv1DDirect.supports(inChannels: window.channels, outChannels: outChannels) else { return nil }
        return Conv1DDirect(batch: batch, inChannels: window.channels, width: window.width, outChannels: outChannels,
                            kernel: window.kw, stride: window.sw, padding: window.pw)
    }

    /// im2col of `samples` samples at `x` into `col`.
    private func lower(_ x: UnsafePointer<Float>, samples: Int, _ col: UnsafeMutablePointer<Float>) {
        let g = window
        if isLine {
            swt_conv1d_im2col(samples, g.channels, g.width, g.kw, g.sw, g.pw, x, col)
        } else {
            im2col(x, g, samples: samples, col)
        }
    }

    /// col2im of `col` into `dx` (added).
    private func raise(_ col: UnsafePointer<Float>, samples: Int, _ dx: UnsafeMutablePointer<Float>) {
        let g = window
        if isLine {
            swt_conv1d_col2im(samples, g.channels, g.width, g.kw, g.sw, g.pw, col, dx)
        } else {
            col2im(col, g, samples: samples, dx)
        }
    }
}
