import SwConfig
import SwTensor

/// Fully connected layer, `y = x W^T + b`, over the last dimension (like `torch.nn.Linear`).
///
/// Input `(B, ..., in)`, output `(B, ..., out)`; leading dimensions are flattened into rows.
/// Parameters: `weight` `[out, in]`, `bias` `[out]` (PyTorch layout). Initialisation as
/// PyTorch: both uniform in `±1/sqrt(in)` (Kaiming-uniform with a = sqrt(5)).
/// All three products go through one `sgemm` each.
public final class Dense: Layer {
    public let typeName = "dense"
    public let inFeatures: Int
    public let outFeatures: Int
    public let useBias: Bool
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var needsInputGradient = true
    /// Set by `keeping(...)`: which elements of which layer the values were cut from.
    public var parameterOrigin: ParameterOrigin?
    /// When set, `backward` leaves the weight and bias gradients to someone else: instead of
    /// accumulating them it calls this with its input `(rows, in)` and the output gradient
    /// `(rows, out)`, which the closure must copy before it returns (both are reused), and
    /// computes only the input gradient. Data parallelism uses it to compute each weight
    /// gradient once per node (`NodeWeightGradients`).
    public var weightGradientSink: ((_ input: Tensor, _ outputGradient: Tensor) -> Void)?
    /// Quantization-aware training: when set, forward runs on fake-quantized weights and
    /// inputs and backward passes straight through (`FakeQuant`).
    public var fakeQuant: FakeQuant?
    /// The precision of the three products (`MixedPrecisionLayer`): fp32, or bf16 operands
    /// with fp32 accumulation.
    public var gemmPrecision: GEMMPrecision = .fp32
    private var usedWeight: UnsafeMutablePointer<Float>?

    private var weight: Tensor!, bias: Tensor!
    private var dWeight: Tensor!, dBias: Tensor!
    private var input: Tensor?
    private var out = BufferSlot()
    private var dx = BufferSlot()

    /// A dense layer mapping samples of `inputShape` (last dimension = in features) to `units`.
    public init(inputShape: [Int], units: Int, bias: Bool = true) {
        precondition(!inputShape.isEmpty && units > 0)
        self.inputShape = inputShape
        self.inFeatures = inputShape.last!
        self.outFeatures = units
        self.useBias = bias
        self.outputShape = inputShape.dropLast() + [units]
    }

    public var parameterShapes: [(name: String, shape: [Int])] {
        useBias ? [("weight", [outFeatures, inFeatures]), ("bias", [outFeatures])]
                : [("weight", [outFeatures, inFeatures])]
    }

    public var parameterTensors: [Tensor] { weight == nil ? [] : useBias ? [weight, bias] : [weight] }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        weight = parameters[0]; dWeight = gradients[0]
        if useBias { bias = parameters[1]; dBias = gradients[1] }
    }

    public func resetParameters(rng: inout RNG) {
        let bound = 1 / Float(inFeatures).squareRoot()
        rng.fillUniform(weight, -bound, bound)
        if useBias { rng.fillUniform(bias, -bound, bound) }
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let rows = x.count / inFeatures                      // B * (leading dims)
        let y = out.reuse(batch: batchSize(x, inputShape), sample: outputShape)   // (rows, out)
        let x = fakeQuant?.input(x, training: training) ?? x
        let w = fakeQuant?.weight(weight) ?? weight.pointer
        usedWeight = w
        input = x
        if useBias, gemmPrecision == .fp32,
           BLAS.gemmAddingBias(m: rows, n: outFeatures, k: inFeatures, a: x.pointer, b: w, bias: bias.pointer, c: y.pointer) {
            return y
        }
        if useBias { DenseBias.broadcast(bias.pointer, into: y.pointer, rows: rows, columns: outFeatures) }
        BLAS.gemm(transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures,
                  a: x.pointer, b: w, beta: useBias ? 1 : 0, c: y.pointer, precision: gemmPrecision)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let x = input!
        let rows = dy.count / outFeatures
        if let sink = weightGradientSink {
            sink(x, dy)
        } else {
            accumulateParameterGradients(x, dy, rows: rows)
        }
        guard needsInputGradient else { return dy }
        // dx (rows, in) = dy (rows, out) W (out, in)
        let g = dx.reuse(x.shape)
        BLAS.gemm(transA: false, transB: false, m: rows, n: inFeatures, k: outFeatures,
                  a: dy.pointer, b: usedWeight ?? weight.pointer, beta: 0, c: g.pointer, precision: gemmPrecision)
        fakeQuant?.maskInputGradient(g)
        return g
    }

    /// dW += dyᵀ x and db += the column sums of dy.
    private func accumulateParameterGradients(_ x: Tensor, _ dy: Tensor, rows: Int) {
        // Both from one read of dy when the weight-gradient kernel takes the product.
        if useBias, gemmPrecision == .fp32,
           BLAS.gemmTNAccumulatingColumnSums(m: outFeatures, n: inFeatures, k: rows, a: dy.pointer, b: x.pointer,
                                             c: dWeight.pointer, columnSums: dBias.pointer) { return }
        // dW (out, in) += dy^T (out, rows) x (rows, in)
        BLAS.gemm(transA: true, transB: false, m: outFeatures, n: inFeatures, k: rows,
                  a: dy.pointer, b: x.pointer, beta: 1, c: dWeight.pointer, precision: gemmPrecision)
        if useBias { DenseBias.accumulateColumnSums(dy.pointer, rows: rows, columns: outFeatures, into: dBias.pointer) }
    }
}

extension Dense {
    /// The config entry of type `"dense"`.
    public static let builder = LayerBuilder("dense", keys: ["units", "bias"]) { e, input, _ throws(ConfigError) in
        let units = try e.int("units", in: 1...Int.max)
        guard !input.isEmpty else { throw LayerRegistry.shapeError(e, "dense", "[..., features]", input) }
        return Dense(inputShape: input, units: units, bias: try e.bool("bias", default: true))
    }
}

extension Dense {
    public func shareBackwardMemory(with other: any Layer) {
        guard let o = other as? Dense, o !== self, o.inputShape == inputShape, o.outFeatures == outFeatures else { return }
        dx = o.dx
    }

    public func shareTransientOutput(with other: any Layer) {
        guard let o = other as? Dense, o !== self, o.inputShape == inputShape, o.outFeatures == outFeatures else { return }
        out = o.out
    }
}

extension Dense {
    /// A new layer of the same kind and sizes, unbound, with its own activations.
    public func replica() -> any Layer {
        let r = Dense(inputShape: inputShape, units: outFeatures, bias: useBias)
        r.needsInputGradient = needsInputGradient
        r.gemmPrecision = gemmPrecision
        return r
    }
}
