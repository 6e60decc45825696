import SwConfig
import SwTensor

/// Average pooling over `(C, L)` samples (`avgpool1d`, like `torch.nn.AvgPool1d(k, s, p)`) or
/// `(C, H, W)` samples (`avgpool2d`, like `torch.nn.AvgPool2d((kh, kw), (sh, sw), (ph, pw))`).
///
/// `y[b, c, i, j] = (1 / (kh kw)) sum_{u, v} x[b, c, i sh - ph + u, j sw - pw + v]`, padding
/// counting as zero and in the divisor (`count_include_pad=True`, `ceil_mode=False`); output
/// size `(H + 2 ph - kh) / sh + 1`; padding at most half the kernel, as PyTorch requires.
/// Backward spreads `dy / (kh kw)` over each window. No parameters.
public final class AvgPool: Layer {
    public let typeName: String
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var needsInputGradient = true
    let window: Window

    private var out: Tensor?
    private var dx: Tensor?

    /// 1-D pooling: samples `[channels, length]`.
    public convenience init(inputShape: [Int], kernel: Int, stride: Int, padding: Int = 0) {
        precondition(inputShape.count == 2, "avgpool1d needs samples of shape [channels, length], got \(inputShape)")
        self.init(typeName: "avgpool1d", inputShape: inputShape, kernel: (kernel, 1), stride: (stride, 1), padding: (padding, 0))
    }

    /// 2-D pooling: samples `[channels, height, width]`.
    public init(typeName: String = "avgpool2d", inputShape: [Int], kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int) = (0, 0)) {
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
        let scale = 1 / Float(g.kh * g.kw)
        let xp = x.pointer, yp = y.pointer
        g.forEachWindow(planes: b * g.channels) { q, o, rows, columns in
            let xq = xp + q * plane
            var acc: Float = 0
            for h in rows {
                let row = xq + h * W
                for w in columns { acc += row[w] }
            }
            yp[o] = acc * scale
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
        let plane = g.height * g.width, W = g.width
        let scale = 1 / Float(g.kh * g.kw)
        let dp = d.pointer, gp = dy.pointer
        g.forEachWindow(planes: b * g.channels) { q, o, rows, columns in
            let dq = dp + q * plane
            let v = gp[o] * scale
            for h in rows {
                let row = dq + h * W
                for w in columns { row[w] += v }
            }
        }
        return d
    }
}

extension AvgPool {
    /// The config entry of type `"avgpool1d"`.
    public static let builder1D = LayerRegistry.pool1d("avgpool1d") { AvgPool(inputShape: $0, kernel: $1, stride: $2, padding: $3) }

    /// The config entry of type `"avgpool2d"`.
    public static let builder2D = LayerRegistry.pool2d("avgpool2d") { AvgPool(inputShape: $0, kernel: $1, stride: $2, padding: $3) }
}

extension AvgPool {
    /// A new layer of the same kind and sizes, unbound, with its own activations.
    public func replica() -> any Layer {
        let r = typeName == "avgpool1d"
            ? AvgPool(inputShape: inputShape, kernel: window.kw, stride: window.sw, padding: window.pw)
            : AvgPool(typeName: typeName, inputShape: inputShape, kernel: (window.kh, window.kw), stride: (window.sh, window.sw),
                      padding: (window.ph, window.pw))
        r.needsInputGradient = needsInputGradient
        return r
    }
}
