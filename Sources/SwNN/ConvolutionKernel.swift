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
}

/// Patch-major im2col: row `(s, oh, ow)` of `col` (`(samples * positions, patch)`) holds the
/// patch under output `(oh, ow)` of sample `s`, ordered `(c, i, j)` like a weight row
/// `[out, in, kh, kw]`; padding reads as zero.
func im2col(_ x: UnsafePointer<Float>, _ g: Window, samples: Int, _ col: UnsafeMutablePointer<Float>) {
    let (H, W, kh, kw) = (g.height, g.width, g.kh, g.kw)
    let (Ho, Wo) = (g.outHeight, g.outWidth)
    var row = col
    for s in 0..<samples {
        let xs = x + s * g.inputSize
        for oh in 0..<Ho {
            let h0 = oh * g.sh - g.ph
            for ow in 0..<Wo {
                let w0 = ow * g.sw - g.pw
                let inside = w0 >= 0 && w0 + kw <= W
                for c in 0..<g.channels {
                    for i in 0..<kh {
                        let h = h0 + i
                        if h < 0 || h >= H {
                            for j in 0..<kw { row[j] = 0 }
                        } else {
                            let src = xs + (c * H + h) * W + w0
                            if inside {
                                for j in 0..<kw { row[j] = src[j] }
                            } else {
                                for j in 0..<kw { row[j] = (w0 + j >= 0 && w0 + j < W) ? src[j] : 0 }
                            }
                        }
                        row += kw
                    }
                }
            }
        }
    }
}

/// The adjoint of `im2col`: adds every patch value of `col` back into `dx` (which it does not
/// clear), skipping padding.
func col2im(_ col: UnsafePointer<Float>, _ g: Window, samples: Int, _ dx: UnsafeMutablePointer<Float>) {
    let (H, W, kh, kw) = (g.height, g.width, g.kh, g.kw)
    let (Ho, Wo) = (g.outHeight, g.outWidth)
    var row = col
    for s in 0..<samples {
        let xs = dx + s * g.inputSize
        for oh in 0..<Ho {
            let h0 = oh * g.sh - g.ph
            for ow in 0..<Wo {
                let w0 = ow * g.sw - g.pw
                let inside = w0 >= 0 && w0 + kw <= W
                for c in 0..<g.channels {
                    for i in 0..<kh {
                        let h = h0 + i
                        if h >= 0 && h < H {
                            let dst = xs + (c * H + h) * W + w0
                            if inside {
                                for j in 0..<kw { dst[j] += row[j] }
                            } else {
                                for j in 0..<kw where w0 + j >= 0 && w0 + j < W { dst[j] += row[j] }
                            }
                        }
                        row += kw
                    }
                }
            }
        }
    }
}

/// Forward and backward of a convolution (cross-correlation, as PyTorch) by im2col + GEMM,
/// shared by `Conv1D` and `Conv2D`.
///
/// Samples are processed in chunks whose im2col matrix holds at most `maxColumnFloats` values
/// (the whole batch for small layers). Per chunk of `n` samples, with `R = n * positions` rows:
/// - forward: `col (R, patch) = im2col(x)`, `t (R, out) = col W^T`, `y[s, o, p] = t[s p, o] + b[o]`
/// - backward: `t = dy` transposed to `(R, out)`; `dW += t^T col`; `db += sum dy`;
///   `dcol = t W` (into the `col` buffer); `dx = col2im(dcol)`.
/// When the batch is one chunk, backward reuses the forward's im2col matrix.
struct ConvKernel {
    let window: Window
    let outChannels: Int
    /// The most im2col values held at once (16 MiB); smaller in tests to exercise chunking.
    var maxColumnFloats = 1 << 22

    private var col: Tensor?       // (R, patch): im2col of the chunk, then its gradient
    private var trans: Tensor?     // (R, out): GEMM output in forward, dy transposed in backward
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
        let (P, K, O) = (window.positions, window.patch, outChannels)
        let chunk = chunkSamples(batch)
        let c = scratch(&col, count: chunk * P * K)
        let t = scratch(&trans, count: chunk * P * O)
        var s0 = 0
        while s0 < batch {
            let n = min(chunk, batch - s0)
            im2col(x.pointer + s0 * window.inputSize, window, samples: n, c)
            // t (R, out) = col (R, K) W^T (K, out)
            BLAS.gemm(transA: false, transB: true, m: n * P, n: O, k: K,
                      a: c, b: weight, beta: 0, c: t)
            for s in 0..<n {
                let ys = y.pointer + (s0 + s) * O * P
                let ts = t + s * P * O
                for o in 0..<O {
                    let b = bias?[o] ?? 0
                    let dst = ys + o * P, src = ts + o
                    for p in 0..<P { dst[p] = src[p * O] + b }
                }
            }
            s0 += n
        }
        colHoldsBatch = chunk >= batch
    }

    /// Accumulates `dW`, `db` from `dy (B, out, positions)`; writes `dx` when given.
    mutating func backward(x: Tensor, dy: Tensor, batch: Int, weight: UnsafePointer<Float>,
                           dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>?, dx: Tensor?) {
        let (P, K, O) = (window.positions, window.patch, outChannels)
        let chunk = chunkSamples(batch)
        let c = scratch(&col, count: chunk * P * K)
        let t = scratch(&trans, count: chunk * P * O)
        if let dBias {
            for s in 0..<batch {
                let ds = dy.pointer + s * O * P
                for o in 0..<O {
                    let row = ds + o * P
                    var acc: Float = 0
                    for p in 0..<P { acc += row[p] }
                    dBias[o] += acc
                }
            }
        }
        dx?.zero()
        var s0 = 0
        while s0 < batch {
            let n = min(chunk, batch - s0)
            if !(colHoldsBatch && s0 == 0) {
                im2col(x.pointer + s0 * window.inputSize, window, samples: n, c)
            }
            for s in 0..<n {
                let ds = dy.pointer + (s0 + s) * O * P
                let ts = t + s * P * O
                for o in 0..<O {
                    let src = ds + o * P, dst = ts + o
                    for p in 0..<P { dst[p * O] = src[p] }
                }
            }
            // dW (out, K) += t^T (out, R) col (R, K)
            BLAS.gemm(transA: true, transB: false, m: O, n: K, k: n * P,
                      a: t, b: c, beta: 1, c: dWeight)
            if let dx {
                // dcol (R, K) = t (R, out) W (out, K), written over col
                BLAS.gemm(transA: false, transB: false, m: n * P, n: K, k: O,
                          a: t, b: weight, beta: 0, c: c)
                col2im(c, window, samples: n, dx.pointer + s0 * window.inputSize)
            }
            s0 += n
        }
        colHoldsBatch = false
    }
}
