import SwNN
import SwTensor

/// Builds the int8 replacement of a `dense`, `conv1d` or `conv2d` layer, bound to its own
/// parameters: weight quantized symmetrically (`Int8Quantization.quantizeWeights`), bias copied,
/// and for static activations the input scale and zero point of the calibrated range.
public enum Int8LayerBuilder {
    /// The config type of the int8 layer that replaces a layer of config type `type`, or nil.
    public static func quantizedType(of type: String) -> String? {
        ["dense": "quantized_dense", "conv1d": "quantized_conv1d", "conv2d": "quantized_conv2d",
         "embedding": "quantized_embedding", "token_position_embedding": "quantized_token_position_embedding"][type]
    }

    /// Whether the int8 form of config type `type` quantizes its input (embeddings take token ids).
    public static func takesActivations(_ type: String) -> Bool {
        type != "embedding" && type != "token_position_embedding"
    }

    /// The int8 layer for `layer` (nil when the layer kind has no int8 form).
    public static func build(_ layer: any Layer, granularity: WeightGranularity, activations: ActivationQuantization,
                             inputRange: (Double, Double)?) -> (any Layer)? {
        if let e = embedding(layer, granularity: granularity) { return e }
        let q: any Layer
        switch layer {
        case let d as Dense:
            q = QuantizedDense(inputShape: d.inputShape, units: d.outFeatures, bias: d.useBias, granularity: granularity, activations: activations)
        case let c as Conv1D:
            q = QuantizedConv1D(inputShape: c.inputShape, channels: c.outChannels, kernel: c.kernel, stride: c.stride, padding: c.padding,
                                bias: c.useBias, granularity: granularity, activations: activations)
        case let c as Conv2D:
            q = QuantizedConv2D(inputShape: c.inputShape, channels: c.outChannels, kernel: c.kernel, stride: c.stride, padding: c.padding,
                                bias: c.useBias, granularity: granularity, activations: activations)
        default:
            return nil
        }
        _ = ParameterStore(root: q)
        let src = layer.parameterTensors, dst = q.parameterTensors
        let names = q.parameterShapes.map(\.name)
        let w = src[0]
        dst[0].pointer.update(from: w.pointer, count: w.count)
        let channels = w.shape[0]
        let scales = Int8Quantization.quantizeWeights(dst[0].pointer, channels: channels, inner: w.count / channels, granularity: granularity)
        dst[1].pointer.update(from: scales, count: scales.count)
        if activations == .static {
            let (lo, hi) = inputRange ?? (0, 0)
            let p = Int8Quantization.activationParameters(lo: Float(lo), hi: Float(hi))
            dst[names.firstIndex(of: "input_scale")!].pointer[0] = p.scale
            dst[names.firstIndex(of: "input_zero_point")!].pointer[0] = Float(p.zeroPoint)
        }
        if src.count > 1, let b = names.firstIndex(of: "bias") { dst[b].pointer.update(from: src[1].pointer, count: src[1].count) }
        return q
    }

    /// The int8 embedding for an `embedding` or `token_position_embedding` (each table quantized
    /// per row, or per tensor), nil for other layers.
    static func embedding(_ layer: any Layer, granularity: WeightGranularity) -> (any Layer)? {
        let q: any Layer
        switch layer {
        case let e as Embedding:
            q = QuantizedEmbedding(inputShape: e.inputShape, vocab: e.vocab, dim: e.dim, granularity: granularity)
        case let e as TokenPositionEmbedding:
            q = QuantizedTokenPositionEmbedding(inputShape: e.inputShape, vocab: e.vocab, dim: e.dim, context: e.context, granularity: granularity)
        default:
            return nil
        }
        _ = ParameterStore(root: q)
        let dst = q.parameterTensors
        for (i, w) in layer.parameterTensors.enumerated() {   // table i -> values 2i, scales 2i + 1
            dst[2 * i].pointer.update(from: w.pointer, count: w.count)
            let scales = Int8Quantization.quantizeWeights(dst[2 * i].pointer, channels: w.shape[0], inner: w.count / w.shape[0],
                                                          granularity: granularity)
            dst[2 * i + 1].pointer.update(from: scales, count: scales.count)
        }
        return q
    }
}
