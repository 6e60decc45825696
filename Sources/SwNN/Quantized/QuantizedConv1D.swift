import SwConfig
import SwTensor

/// An int8 1-D convolution (inference only) over `(channels, length)` samples: what
/// `swtrain quantize` turns a `conv1d` into. Same geometry as `Conv1D`; parameters as
/// `QuantizedDense` with `weight` `[out, in, kernel]` (I8) and `weight_scale` per output
/// channel `[out]` or `[1]`. Computed by im2col and the int8 GEMM (`QuantizedConvKernel`);
/// dynamic activations take one scale per output position's patch.
public final class QuantizedConv1D: Layer, IntegerParameters {
    public let typeName = "quantized_conv1d"
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var needsInputGradient = false
    private var state: QuantizedConvState

    public var useBias: Bool { state.useBias }
    public var granularity: WeightGranularity { state.granularity }
    public var activations: ActivationQuantization { state.activations }

    public init(inputShape: [Int], channels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                granularity: WeightGranularity = .perChannel, activations: ActivationQuantization = .static) {
        precondition(inputShape.count == 2, "quantized_conv1d needs samples of shape [channels, length], got \(inputShape)")
        let w = Window.line(channels: inputShape[0], length: inputShape[1], kernel: kernel, stride: stride, padding: padding)
        precondition(w.isValid && channels > 0, "quantized_conv1d: kernel \(kernel) with padding \(padding) does not fit length \(inputShape[1])")
        self.inputShape = inputShape
        self.inChannels = inputShape[0]
        self.outChannels = channels
        self.kernel = kernel; self.stride = stride; self.padding = padding
        self.outputShape = [channels, w.outWidth]
        state = QuantizedConvState(window: w, outChannels: channels, bias: bias, granularity: granularity, activations: activations)
    }

    public var parameterShapes: [(name: String, shape: [Int])] { state.parameterShapes(weight: [outChannels, inChannels, kernel]) }
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
        preconditionFailure("quantized_conv1d is inference-only: train the fp32 model and quantize it again")
    }

    public func replica() -> any Layer {
        QuantizedConv1D(inputShape: inputShape, channels: outChannels, kernel: kernel, stride: stride, padding: padding,
                        bias: useBias, granularity: granularity, activations: activations)
    }
}

extension QuantizedConv1D {
    /// The config entry of type `"quantized_conv1d"`.
    public static let builder = LayerBuilder("quantized_conv1d", keys: ["channels", "kernel", "stride", "padding", "bias", "granularity", "activations"]) { e, input, _ throws(ConfigError) in
        let channels = try e.int("channels", in: 1...Int.max)
        let k = try e.int("kernel", in: 1...Int.max)
        let s = try e.int("stride", default: 1, in: 1...Int.max)
        let p = try e.int("padding", default: 0, in: 0...Int.max)
        guard input.count == 2 else { throw LayerRegistry.shapeError(e, "quantized_conv1d", "[channels, length]", input, hint: LayerRegistry.reshapeHint(input, rank: 2)) }
        try LayerRegistry.checkFits(e, "quantized_conv1d", Window.line(channels: input[0], length: input[1], kernel: k, stride: s, padding: p), input)
        let (g, a) = try LayerRegistry.quantizationKeys(e)
        return QuantizedConv1D(inputShape: input, channels: channels, kernel: k, stride: s, padding: p,
                               bias: try e.bool("bias", default: true), granularity: g, activations: a)
    }
}
