import SwConfig
import SwTensor

/// Max pooling over `(C, L)` samples (`maxpool1d`, like `torch.nn.MaxPool1d(k, s, p)`) or
/// `(C, H, W)` samples (`maxpool2d`, like `torch.nn.MaxPool2d((kh, kw), (sh, sw), (ph, pw))`).
///
/// `y[b, c, i, j] = max_{u, v} x[b, c, i sh - ph + u, j sw - pw + v]`, padding counting as
/// -inf; output size `(H + 2 ph - kh) / sh + 1` (`ceil_mode=False`); padding at most half the
/// kernel, as PyTorch requires. The first maximum of a window wins (a NaN wins over any
/// number, as in PyTorch); backward routes each `dy` to that position. No parameters.
public final class MaxPool: Layer {
    public let typeName: String
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var needsInputGradient = true
    let window: Window

    private var argmax: [Int32] = []      // (B, C, positions): index within the (H, W) plane
    private var out: Tensor?
    private var dx: Tensor?

    /// 1-D pooling: samples `[channels, length]`.
    public convenience init(inputShape: [Int], kernel: Int, stride: Int, padding: Int = 0) {
        precondition(inputShape.count == 2, "maxpool1d needs samples of shape [channels, length], got \(inputShape)")
        self.init(typeName: "maxpool1d", inputShape: inputShape, kernel: (kernel, 1), stride: (stride, 1), padding: (padding, 0))
    }

    /// 2-D pooling: samples `[channels, height, width]`.
    public init(typeName: String = "maxpool2d", inputShape: [Int], kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int) = (0, 0)) {
        self.typeName = typeName
        self.inputShape = inputShape
        (window, outputShape) = Window.pooling(typeName, inputShape: inputShape, kernel: kernel, stride: stride, padding: padding)
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let g = window
        let b = batchSize(x, inputShape)
        let y = reuseBatch(out, batch: b, sample: outputShape)   // (B, C, positions)
        out = y
        let plane = g.height * g.width, W = g.width
        if argmax.count < y.count { argmax = [Int32](repeating: 0, count: y.count) }
        let xp = x.pointer, yp = y.pointer
        argmax.withUnsafeMutableBufferPointer { am in
            g.forEachWindow(planes: b * g.channels) { q, o, rows, columns in
                let xq = xp + q * plane
                var best = -Float.infinity, at = rows.lowerBound * W + columns.lowerBound
                for h in rows {
                    for w in columns {
                        let v = xq[h * W + w]
                        if v > best || v.isNaN { best = v; at = h * W + w }
                    }
                }
                yp[o] = best
                am[o] = Int32(truncatingIfNeeded: at)
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard needsInputGradient else { return dy }
        let g = window
        let b = dy.count / Tensor.elementCount(outputShape)
        let d = reuseBatch(dx, batch: b, sample: inputShape)     // (B, C, H, W)
        dx = d
        d.zero()
        let plane = g.height * g.width, P = g.positions
        argmax.withUnsafeBufferPointer { am in
            for q in 0..<(b * g.channels) {
                let dp = d.pointer + q * plane, gp = dy.pointer + q * P
                for p in 0..<P { dp[Int(am[q * P + p])] += gp[p] }
            }
        }
        return d
    }
}

extension MaxPool {
    /// The config entry of type `"maxpool1d"`.
    public static let builder1D = LayerRegistry.pool1d("maxpool1d") { MaxPool(inputShape: $0, kernel: $1, stride: $2, padding: $3) }

    /// The config entry of type `"maxpool2d"`.
    public static let builder2D = LayerRegistry.pool2d("maxpool2d") { MaxPool(inputShape: $0, kernel: $1, stride: $2, padding: $3) }
}

extension MaxPool {
    /// A new layer of the same kind and sizes, unbound, with its own activations.
    public func replica() -> any Layer {
        let r = typeName == "maxpool1d"
            ? MaxPool(inputShape: inputShape, kernel: window.kw, stride: window.sw, padding: window.pw)
            : MaxPool(typeName: typeName, inputShape: inputShape, kernel: (window.kh, window.kw), stride: (window.sh, window.sw),
                      padding: (window.ph, window.pw))
        r.needsInputGradient = needsInputGradient
        return r
    }
}
