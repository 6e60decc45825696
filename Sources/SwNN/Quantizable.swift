import SwTensor

/// A layer whose weight an int8 pass can quantize per output channel (symmetric scales, one
/// per index of `outputChannelAxis`, like mlx-swift's `Quantizable` / torch's
/// `per_channel_symmetric`). The pass reads `quantizableWeight`, and either writes the
/// dequantized values back through it (fake quantization) or swaps the layer for an int8 one
/// with `Model.rewrite`.
public protocol Quantizable: Layer {
    /// The weight to quantize: a view of the layer's parameters (writing to it changes the layer).
    var quantizableWeight: Tensor { get }
    /// The axis of `quantizableWeight` that indexes output channels (scales are per index).
    var outputChannelAxis: Int { get }
}

extension Quantizable {
    /// `max |w|` over each output channel of `quantizableWeight` (the symmetric range; the
    /// int8 scale is this / 127).
    public func perChannelAbsMax() -> [Float] {
        let w = quantizableWeight, axis = outputChannelAxis
        let n = w.shape[axis]
        let outer = Tensor.elementCount(Array(w.shape[..<axis]))
        let inner = Tensor.elementCount(Array(w.shape[(axis + 1)...]))
        var m = [Float](repeating: 0, count: n)
        for a in 0..<outer {
            for c in 0..<n {
                let p = w.pointer + (a * n + c) * inner
                for i in 0..<inner { m[c] = max(m[c], abs(p[i])) }
            }
        }
        return m
    }
}
