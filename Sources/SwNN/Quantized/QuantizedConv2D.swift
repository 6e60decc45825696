import SwConfig
import SwTensor

/// An int8 2-D convolution (inference only) over `(channels, height, width)` samples: what
/// `swtrain quantize` turns a `conv2d` into. Same geometry as `Conv2D`; parameters as
/// `QuantizedDense` with `weight` `[out, in, kh, kw]` (I8) and `weight_scale` `[out]` or `[1]`.
public final class QuantizedConv2D: Layer, IntegerParameters {
    public let typeName = "quantized_conv2d"
    public let inChannels: Int, outChannels: Int
    /// (kh, kw), (sh, sw), (ph, pw).
    public let kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var needsInputGradient = false
    private var state: QuantizedConvState

    public var useBias: Bool { state.useBias }
    public var granularity: WeightGranularity { state.granularity }
    public var activations: ActivationQuantization { state.activations }

    public init(inputShape: [Int], channels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                bias: Bool = true, granularity: WeightGranularity = .perChannel, activations: ActivationQuantization = .static) {
        precondition(inputShape.count == 3, "quantized_conv2d needs samples of shape [channels, height, width], got \(inputShape)")
        let w = Window(channels: inputShape[0], height: inputShape[1], width: inputShape[2],
                       kh: kernel.0, kw: kernel.1, sh: stride.0, sw: stride.1, ph: padding.0, pw: padding.1)
        precondition(w.isValid && channels > 0, "quantized_conv2d: kernel \(kernel) with padding \(padding) does not fit \(inputShape)")
        self.inputShape = inputShape
        self.inChannels = inputShape[0]
        self.outChannels = channels
        self.kernel = kernel; self.stride = stride; self.padding = padding
        self.outputShape = [channels, w.outHeight, w.outWidth]
        state = QuantizedConvState(window: w, outChannels: channels, bias: bias, granularity: granularity, activations: activations)
    }

    public var parameterShapes: [(name: String, shape: [Int])] {
        state.parameterShapes(weight: [outChannels, inChannels, kernel.0, kernel.1])
    }
    public var integerParameterDTypes: [String: DType] { quantizedIntegerDTypes(state.activations) }
    public var parameterTensors: [Tensor] { state.params }
    public func bind(parameters: [Tensor], gradients: [Tensor]) { state.bind(parameters) }
    public func resetParameters(rng: inout RNG) { state.reset(names: parameterShapes.map(\.name)) }
    /// Drops the packed weight: the next forward packs the current parameter values.
    public func invalidate() { state.engine = nil }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        state.forward(x, inputShape: inputShape, outputShape: outputShape, training: training)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        preconditionFailure("quantized_conv2d is inference-only: train the fp32 model and quantize it again")
    }

    public func replica() -> any Layer {
        QuantizedConv2D(inputShape: inputShape, channels: outChannels, kernel: kernel, stride: stride, padding: padding,
                        bias: useBias, granularity: granularity, activations: activations)
    }
}

extension QuantizedConv2D {
    /// The config entry of type `"quantized_conv2d"`.
    public static let builder = LayerBuilder("quantized_conv2d", keys: ["channels", "kernel", "stride", "padding", "bias", "granularity", "activations"]) { e, input, _ throws(ConfigError) in
        let channels = try e.int("channels", in: 1...Int.max)
        let k = try LayerRegistry.pair(e, "kernel", default: nil, min: 1)
        let s = try LayerRegistry.pair(e, "stride", default: 1, min: 1)
        let p = try LayerRegistry.pair(e, "padding", default: 0, min: 0)
        guard input.count == 3 else { throw LayerRegistry.shapeError(e, "quantized_conv2d", "[channels, height, width]", input, hint: LayerRegistry.reshapeHint(input, rank: 3)) }
        try LayerRegistry.checkFits(e, "quantized_conv2d", Window(channels: input[0], height: input[1], width: input[2], kh: k.0, kw: k.1, sh: s.0, sw: s.1, ph: p.0, pw: p.1), input)
        let (g, a) = try LayerRegistry.quantizationKeys(e)
        return QuantizedConv2D(inputShape: input, channels: channels, kernel: k, stride: s, padding: p,
                               bias: try e.bool("bias", default: true), granularity: g, activations: a)
    }
}
