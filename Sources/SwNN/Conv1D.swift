import SwConfig
import SwTensor

/// 1-D convolution (cross-correlation) over `(channels, length)` samples, like
/// `torch.nn.Conv1d(in, out, kernel, stride, padding, bias)`.
///
/// `y[b, o, l] = bias[o] + sum_{c, j} weight[o, c, j] * x[b, c, l * stride - padding + j]`,
/// zero outside `0..<length`. Input `(B, in, L)`, output `(B, out, L_out)` with
/// `L_out = (L + 2 padding - kernel) / stride + 1`. Parameters: `weight` `[out, in, kernel]`,
/// `bias` `[out]`. Initialisation as PyTorch: both uniform in `±1/sqrt(in * kernel)`.
/// Computed by the direct kernels (`Conv1DDirect`) for at most 32 channels in and out at fp32,
/// else by im2col and one `sgemm` per chunk of samples for each of y, dW and dx (`ConvKernel`).
public final class Conv1D: Layer {
    public let typeName = "conv1d"
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let useBias: Bool
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var needsInputGradient = true
    /// Set by `keeping(...)`: which elements of which layer the values were cut from.
    public var parameterOrigin: ParameterOrigin?

    private var state: ConvLayerState

    /// A convolution over samples `[in channels, length]` to `channels` output channels.
    public init(inputShape: [Int], channels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true) {
        precondition(inputShape.count == 2, "conv1d needs samples of shape [channels, length], got \(inputShape)")
        precondition(channels > 0 && kernel > 0 && stride > 0 && padding >= 0)
        let w = Window.line(channels: inputShape[0], length: inputShape[1], kernel: kernel, stride: stride, padding: padding)
        precondition(w.isValid && inputShape[0] > 0, "conv1d: kernel \(kernel) with padding \(padding) does not fit length \(inputShape[1])")
        self.inputShape = inputShape
        self.inChannels = inputShape[0]
        self.outChannels = channels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.useBias = bias
        self.outputShape = [channels, w.outWidth]
        self.state = ConvLayerState(window: w, outChannels: channels, bias: bias)
    }

    /// The most im2col values held at once (tests lower it to exercise chunking).
    var columnLimit: Int {
        get { state.conv.maxColumnFloats }
        set { state.conv.maxColumnFloats = newValue }
    }

    /// Whether the direct kernels may run this layer (tests turn it off to exercise im2col).
    var allowsDirectKernel: Bool {
        get { state.conv.allowsDirect }
        set { state.conv.allowsDirect = newValue }
    }

    public var parameterShapes: [(name: String, shape: [Int])] {
        useBias ? [("weight", [outChannels, inChannels, kernel]), ("bias", [outChannels])]
                : [("weight", [outChannels, inChannels, kernel])]
    }

    public var parameterTensors: [Tensor] { state.parameterTensors }

    public func bind(parameters: [Tensor], gradients: [Tensor]) { state.bind(parameters: parameters, gradients: gradients) }

    public func resetParameters(rng: inout RNG) { state.resetParameters(rng: &rng, fanIn: inChannels * kernel) }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        state.forward(x, inputShape: inputShape, outputShape: outputShape, training: training)
    }

    /// Quantization-aware training: when set, forward runs on fake-quantized weights and
    /// inputs and backward passes straight through (`FakeQuant`).
    public var fakeQuant: FakeQuant? {
        get { state.fakeQuant }
        set { state.fakeQuant = newValue }
    }
    /// The precision of the im2col GEMMs (`MixedPrecisionLayer`): fp32, or bf16 operands
    /// with fp32 accumulation.
    public var gemmPrecision: GEMMPrecision {
        get { state.conv.precision }
        set { state.conv.precision = newValue }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        state.backward(dy, inputShape: inputShape, needsInputGradient: needsInputGradient)
    }
}

extension Conv1D {
    /// The config entry of type `"conv1d"`.
    public static let builder = LayerBuilder("conv1d", keys: ["channels", "kernel", "stride", "padding", "bias"]) { e, input, _ throws(ConfigError) in
        let channels = try e.int("channels", in: 1...Int.max)
        let k = try e.int("kernel", in: 1...Int.max)
        let s = try e.int("stride", default: 1, in: 1...Int.max)
        let p = try e.int("padding", default: 0, in: 0...Int.max)
        guard input.count == 2 else { throw LayerRegistry.shapeError(e, "conv1d", "[channels, length]", input, hint: LayerRegistry.reshapeHint(input, rank: 2)) }
        let w = Window.line(channels: input[0], length: input[1], kernel: k, stride: s, padding: p)
        try LayerRegistry.checkFits(e, "conv1d", w, input)
        return Conv1D(inputShape: input, channels: channels, kernel: k, stride: s, padding: p,
                      bias: try e.bool("bias", default: true))
    }
}

extension Conv1D {
    /// A new layer of the same kind and sizes, unbound, with its own activations.
    public func replica() -> any Layer {
        let r = Conv1D(inputShape: inputShape, channels: outChannels, kernel: kernel, stride: stride, padding: padding, bias: useBias)
        r.needsInputGradient = needsInputGradient
        r.gemmPrecision = gemmPrecision
        return r
    }
}
