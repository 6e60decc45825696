import SwConfig
import SwTensor

/// 2-D convolution (cross-correlation) over `(channels, height, width)` samples, like
/// `torch.nn.Conv2d(in, out, (kh, kw), (sh, sw), (ph, pw), bias)`.
///
/// `y[b, o, i, j] = bias[o] + sum_{c, u, v} weight[o, c, u, v] * x[b, c, i sh - ph + u, j sw - pw + v]`,
/// zero outside the image. Input `(B, in, H, W)`, output `(B, out, H_out, W_out)` with
/// `H_out = (H + 2 ph - kh) / sh + 1` (same for W). Parameters: `weight` `[out, in, kh, kw]`,
/// `bias` `[out]`. Initialisation as PyTorch: both uniform in `±1/sqrt(in * kh * kw)`.
/// Computed by im2col and one `sgemm` per chunk of samples for each of y, dW and dx
/// (`ConvKernel`).
public final class Conv2D: Layer {
    public let typeName = "conv2d"
    public let inChannels: Int
    public let outChannels: Int
    /// (kh, kw), (sh, sw), (ph, pw).
    public let kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    public let useBias: Bool
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var needsInputGradient = true
    /// Set by `keeping(...)`: which elements of which layer the values were cut from.
    public var parameterOrigin: ParameterOrigin?

    private var state: ConvLayerState

    /// A convolution over samples `[in channels, height, width]` to `channels` output channels.
    public init(inputShape: [Int], channels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), bias: Bool = true) {
        precondition(inputShape.count == 3, "conv2d needs samples of shape [channels, height, width], got \(inputShape)")
        precondition(channels > 0 && kernel.0 > 0 && kernel.1 > 0 && stride.0 > 0 && stride.1 > 0
                     && padding.0 >= 0 && padding.1 >= 0)
        let w = Window(channels: inputShape[0], height: inputShape[1], width: inputShape[2],
                       kh: kernel.0, kw: kernel.1, sh: stride.0, sw: stride.1, ph: padding.0, pw: padding.1)
        precondition(w.isValid && inputShape[0] > 0, "conv2d: kernel \(kernel) with padding \(padding) does not fit \(inputShape)")
        self.inputShape = inputShape
        self.inChannels = inputShape[0]
        self.outChannels = channels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.useBias = bias
        self.outputShape = [channels, w.outHeight, w.outWidth]
        self.state = ConvLayerState(window: w, outChannels: channels, bias: bias)
    }

    /// The most im2col values held at once (tests lower it to exercise chunking).
    var columnLimit: Int {
        get { state.conv.maxColumnFloats }
        set { state.conv.maxColumnFloats = newValue }
    }

    public var parameterShapes: [(name: String, shape: [Int])] {
        let w = [outChannels, inChannels, kernel.0, kernel.1]
        return useBias ? [("weight", w), ("bias", [outChannels])] : [("weight", w)]
    }

    public var parameterTensors: [Tensor] { state.parameterTensors }

    public func bind(parameters: [Tensor], gradients: [Tensor]) { state.bind(parameters: parameters, gradients: gradients) }

    public func resetParameters(rng: inout RNG) { state.resetParameters(rng: &rng, fanIn: inChannels * kernel.0 * kernel.1) }

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

extension Conv2D {
    /// The config entry of type `"conv2d"`.
    public static let builder = LayerBuilder("conv2d", keys: ["channels", "kernel", "stride", "padding", "bias"]) { e, input, _ throws(ConfigError) in
        let channels = try e.int("channels", in: 1...Int.max)
        let k = try LayerRegistry.pair(e, "kernel", default: nil, min: 1)
        let s = try LayerRegistry.pair(e, "stride", default: 1, min: 1)
        let p = try LayerRegistry.pair(e, "padding", default: 0, min: 0)
        guard input.count == 3 else { throw LayerRegistry.shapeError(e, "conv2d", "[channels, height, width]", input, hint: LayerRegistry.reshapeHint(input, rank: 3)) }
        let w = Window(channels: input[0], height: input[1], width: input[2], kh: k.0, kw: k.1, sh: s.0, sw: s.1, ph: p.0, pw: p.1)
        try LayerRegistry.checkFits(e, "conv2d", w, input)
        return Conv2D(inputShape: input, channels: channels, kernel: k, stride: s, padding: p,
                      bias: try e.bool("bias", default: true))
    }
}

extension Conv2D {
    /// A new layer of the same kind and sizes, unbound, with its own activations.
    public func replica() -> any Layer {
        let r = Conv2D(inputShape: inputShape, channels: outChannels, kernel: kernel, stride: stride, padding: padding, bias: useBias)
        r.needsInputGradient = needsInputGradient
        r.gemmPrecision = gemmPrecision
        return r
    }
}
