import SwTensor

/// What `Conv1D` and `Conv2D` hold beyond their sizes: the bound weight `[out, in, kernel...]`
/// and optional bias `[out]` with their gradients, the im2col kernel, and the tensors kept from
/// forward for backward and reused on every step. Their parameter binding, initialisation,
/// forward and backward are these methods; the layers differ only in shapes and config.
struct ConvLayerState {
    let useBias: Bool
    var conv: ConvKernel
    private var weight: Tensor!, bias: Tensor!
    private var dWeight: Tensor!, dBias: Tensor!
    private var input: Tensor?
    private var out: Tensor?
    private var dx: Tensor?
    /// Quantization-aware training (`FakeQuant`): fake-quantized weight and input in forward.
    var fakeQuant: FakeQuant?
    private var usedWeight: UnsafeMutablePointer<Float>?

    init(window: Window, outChannels: Int, bias: Bool) {
        useBias = bias
        conv = ConvKernel(window: window, outChannels: outChannels)
    }

    /// The bound parameters, weight first (empty before `bind`).
    var parameterTensors: [Tensor] { weight == nil ? [] : useBias ? [weight, bias] : [weight] }

    mutating func bind(parameters: [Tensor], gradients: [Tensor]) {
        weight = parameters[0]; dWeight = gradients[0]
        if useBias { bias = parameters[1]; dBias = gradients[1] }
    }

    /// Weight and bias uniform in `±1/sqrt(fanIn)`, as PyTorch.
    func resetParameters(rng: inout RNG, fanIn: Int) {
        let bound = 1 / Float(fanIn).squareRoot()
        rng.fillUniform(weight, -bound, bound)
        if useBias { rng.fillUniform(bias, -bound, bound) }
    }

    /// `y (B, outputShape...)` for `x (B, inputShape...)`.
    mutating func forward(_ x: Tensor, inputShape: [Int], outputShape: [Int], training: Bool = false) -> Tensor {
        let b = batchSize(x, inputShape)
        let y = reuseBatch(out, batch: b, sample: outputShape)   // (B, out, positions...)
        out = y
        let x = fakeQuant?.input(x, training: training) ?? x
        let w = fakeQuant?.weight(weight) ?? weight.pointer
        usedWeight = w
        input = x
        conv.forward(x: x, batch: b, weight: w, bias: useBias ? bias.pointer : nil, y: y)
        return y
    }

    /// Accumulates dW and db from `dy`; returns dx (shaped like the input), or `dy` without it.
    mutating func backward(_ dy: Tensor, inputShape: [Int], needsInputGradient: Bool) -> Tensor {
        let x = input!
        let b = batchSize(x, inputShape)
        var g: Tensor?
        if needsInputGradient {
            g = Tensor.reuse(dx, shape: x.shape)              // (B, in, positions...)
            dx = g
        }
        conv.backward(x: x, dy: dy, batch: b, weight: usedWeight ?? weight.pointer, dWeight: dWeight.pointer,
                      dBias: useBias ? dBias.pointer : nil, dx: g)
        if let g { fakeQuant?.maskInputGradient(g) }
        return g ?? dy
    }
}
