import SwConfig
import SwTensor

/// An int8 dense layer (inference only), `y = dequant(quant(x) · Wqᵀ) + b` over the last
/// dimension: what `swtrain quantize` turns a `dense` into (docs/quantize.md).
///
/// Parameters, in this order: `weight` `[out, in]` (int8 values, stored `I8`), `weight_scale`
/// `[out]` (per channel) or `[1]` (per tensor, F32), for static activations `input_scale` `[1]`
/// (F32) and `input_zero_point` `[1]` (stored `I32`, in 0...255), then `bias` `[out]` (F32).
/// Weight `w ≈ weight · weight_scale[o]`; input `x ≈ (q − zero_point) · scale` with `q` uint8,
/// per row at run time (`dynamic`) or calibrated (`static`). The int8 weight is packed on the
/// first forward (and again on every forward in training mode, so a freshly loaded value is
/// always used there); backward is not supported: fine-tune the fp32 model with
/// quantization-aware training instead.
public final class QuantizedDense: Layer, IntegerParameters {
    public let typeName = "quantized_dense"
    public let inFeatures: Int
    public let outFeatures: Int
    public let useBias: Bool
    public let granularity: WeightGranularity
    public let activations: ActivationQuantization
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var needsInputGradient = false

    /// Inference fusion (`Int8Fusion`): the `relu` layer after this one runs in the output
    /// stage of this layer's int8 GEMM.
    public internal(set) var fusedReLU = false
    /// Inference fusion (`Int8Fusion`): the next int8 dense layer (static input) whose uint8
    /// input this layer's GEMM writes directly; the float output is then left unwritten, so
    /// only that layer may read it.
    public internal(set) var feeds: QuantizedDense?

    private var params: [Tensor] = []
    private var engine: Int8Matmul?
    private var out: Tensor?
    /// The uint8 input a previous layer wrote for this one, for the float tensor `handoffSource`.
    private var handoff: UnsafeMutablePointer<UInt8>?
    private var handoffCapacity = 0
    private var handoffSource: UnsafeMutablePointer<Float>?
    private var handoffRows = 0

    public init(inputShape: [Int], units: Int, bias: Bool = true, granularity: WeightGranularity = .perChannel,
                activations: ActivationQuantization = .dynamic) {
        precondition(!inputShape.isEmpty && units > 0)
        self.inputShape = inputShape
        self.inFeatures = inputShape.last!
        self.outFeatures = units
        self.useBias = bias
        self.granularity = granularity
        self.activations = activations
        self.outputShape = inputShape.dropLast() + [units]
    }

    public var parameterShapes: [(name: String, shape: [Int])] {
        quantizedParameterShapes(out: outFeatures, weight: [outFeatures, inFeatures], granularity: granularity,
                                 activations: activations, bias: useBias)
    }

    public var integerParameterDTypes: [String: DType] { quantizedIntegerDTypes(activations) }

    public var parameterTensors: [Tensor] { params }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        params = parameters
        engine = nil
    }

    /// Zero weight, unit scales, zero bias: a placeholder until real values are loaded.
    public func resetParameters(rng: inout RNG) {
        for (t, (name, _)) in zip(params, parameterShapes) {
            t.pointer.update(repeating: name.hasSuffix("scale") ? 1 : 0, count: t.count)
        }
    }

    /// Drops the packed weight: the next forward packs the current parameter values.
    public func invalidate() { engine = nil }

    deinit { handoff?.deallocate() }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let rows = x.count / inFeatures
        let y = reuseBatch(out, batch: batchSize(x, inputShape), sample: outputShape)
        out = y
        if engine == nil || training {
            engine = Int8Matmul(n: outFeatures, k: inFeatures, weight: params[0].pointer, scales: params[1].pointer,
                                scaleCount: params[1].count)
        }
        let input = staticInput(params, activations)
        // The uint8 rows the previous layer wrote for exactly this input tensor.
        let given = input != nil && handoffSource == x.pointer && handoffRows == rows ? UnsafePointer(handoff) : nil
        handoffSource = nil
        let bias = useBias ? params.last!.pointer : nil
        if let next = feeds, !training, let p = staticInput(next.params, next.activations) {
            let q = next.receive(rows: rows, standingFor: y.pointer)
            engine!.run(m: rows, x: x.pointer, quantized: given, bias: bias, input: input, relu: fusedReLU,
                        output: .quantized(q, scale: p.scale, zeroPoint: p.zeroPoint))
        } else {
            engine!.run(m: rows, x: x.pointer, quantized: given, bias: bias, input: input, relu: fusedReLU, output: .float(y.pointer))
        }
        return y
    }

    /// A buffer for `rows` uint8 input rows, taken as this layer's input when the next
    /// forward's input is the float tensor at `source`.
    private func receive(rows: Int, standingFor source: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<UInt8> {
        if rows * inFeatures > handoffCapacity {
            handoff?.deallocate()
            handoffCapacity = rows * inFeatures
            handoff = .allocate(capacity: handoffCapacity)
        }
        handoffSource = source
        handoffRows = rows
        return handoff!
    }

    public func backward(_ dy: Tensor) -> Tensor {
        preconditionFailure("quantized_dense is inference-only: train the fp32 model (optionally with a `quantization` section for quantization-aware training) and quantize it again")
    }

    public func replica() -> any Layer {
        QuantizedDense(inputShape: inputShape, units: outFeatures, bias: useBias, granularity: granularity, activations: activations)
    }
}

/// The parameter list every int8 layer declares (see `QuantizedDense`).
func quantizedParameterShapes(out: Int, weight: [Int], granularity: WeightGranularity,
                              activations: ActivationQuantization, bias: Bool) -> [(name: String, shape: [Int])] {
    var p: [(name: String, shape: [Int])] = [("weight", weight), ("weight_scale", [granularity == .perChannel ? out : 1])]
    if activations == .static { p += [("input_scale", [1]), ("input_zero_point", [1])] }
    if bias { p.append(("bias", [out])) }
    return p
}

func quantizedIntegerDTypes(_ activations: ActivationQuantization) -> [String: DType] {
    activations == .static ? ["weight": .i8, "input_zero_point": .i32] : ["weight": .i8]
}

/// `(input_scale, input_zero_point)` of a static layer's bound parameters, nil for dynamic.
func staticInput(_ params: [Tensor], _ activations: ActivationQuantization) -> (scale: Float, zeroPoint: Int32)? {
    guard activations == .static else { return nil }
    let s = params[2].pointer[0], z = params[3].pointer[0]
    return (s > 0 && s.isFinite ? s : 1, Int32(min(255, max(0, z))))
}

extension LayerRegistry {
    /// The `granularity` and `activations` keys of an int8 layer entry.
    static func quantizationKeys(_ e: ConfigObject) throws(ConfigError) -> (WeightGranularity, ActivationQuantization) {
        let g = try e.string("granularity", default: "per_channel", oneOf: WeightGranularity.allCases.map(\.rawValue))
        let a = try e.string("activations", default: "dynamic", oneOf: ActivationQuantization.allCases.map(\.rawValue))
        return (WeightGranularity(rawValue: g)!, ActivationQuantization(rawValue: a)!)
    }
}

extension QuantizedDense {
    /// The config entry of type `"quantized_dense"`.
    public static let builder = LayerBuilder("quantized_dense", keys: ["units", "bias", "granularity", "activations"]) { e, input, _ throws(ConfigError) in
        let units = try e.int("units", in: 1...Int.max)
        guard !input.isEmpty else { throw LayerRegistry.shapeError(e, "quantized_dense", "[..., features]", input) }
        let (g, a) = try LayerRegistry.quantizationKeys(e)
        return QuantizedDense(inputShape: input, units: units, bias: try e.bool("bias", default: true), granularity: g, activations: a)
    }
}
