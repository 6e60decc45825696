import SwTensor

/// How an int8 layer's weight is scaled: one symmetric scale per output channel (the default,
/// like torch's `per_channel_symmetric`) or one for the whole tensor.
public enum WeightGranularity: String, Sendable, CaseIterable {
    case perChannel = "per_channel"
    case perTensor = "per_tensor"
}

/// How an int8 layer quantizes its input: `dynamic` computes a scale and zero point for every
/// row at run time (`swt_quantize_rows_u8`); `static` uses the calibrated `input_scale` and
/// `input_zero_point` for every row.
public enum ActivationQuantization: String, Sendable, CaseIterable {
    case dynamic
    case `static`
}

/// A layer some of whose parameters hold integers (int8 weights, int32 zero points). In memory
/// they are Float parameters with integer values (exact); a model file stores them with the
/// dtype given here, and the loaders accept exactly that dtype for them.
public protocol IntegerParameters: Layer {
    /// Local parameter name -> stored dtype (`"weight": .i8`, `"input_zero_point": .i32`).
    var integerParameterDTypes: [String: DType] { get }
}

extension Model {
    /// Every integer parameter of the model by full name (`"0.weight": .i8`).
    public var integerParameterDTypes: [String: DType] {
        var out: [String: DType] = [:]
        for (path, layer) in network.allLayers() {
            guard let l = layer as? any IntegerParameters else { continue }
            for (name, dtype) in l.integerParameterDTypes { out[childPath(path, name)] = dtype }
        }
        return out
    }
}

/// Symmetric int8 quantization of weights and the asymmetric uint8 grid of activations.
public enum Int8Quantization {
    /// The symmetric scale of a range `max |w|`: `absMax / 127`, or 1 when the range is zero.
    public static func symmetricScale(absMax: Float) -> Float {
        absMax > 0 && absMax.isFinite ? absMax / 127 : 1
    }

    /// `clamp(round_half_even(w / scale), -127, 127)`.
    @inline(__always)
    public static func quantizeWeight(_ w: Float, scale: Float) -> Float {
        min(127, max(-127, (w / scale).rounded(.toNearestOrEven)))
    }

    /// Quantizes `w` (`channels` rows of `inner` values, row-major) in place to integer values
    /// and returns the scales (`channels` of them, or one for `.perTensor`).
    public static func quantizeWeights(_ w: UnsafeMutablePointer<Float>, channels: Int, inner: Int,
                                       granularity: WeightGranularity) -> [Float] {
        var absMax = [Float](repeating: 0, count: channels)
        for c in 0..<channels {
            for i in 0..<inner { absMax[c] = max(absMax[c], abs(w[c * inner + i])) }
        }
        let scales = granularity == .perChannel ? absMax.map { symmetricScale(absMax: $0) }
                                                : [symmetricScale(absMax: absMax.max() ?? 0)]
        for c in 0..<channels {
            let s = scales[granularity == .perChannel ? c : 0]
            for i in 0..<inner { w[c * inner + i] = quantizeWeight(w[c * inner + i], scale: s) }
        }
        return scales
    }

    /// The asymmetric uint8 parameters of an activation range: the range is widened to hold 0,
    /// `scale = (hi - lo) / 255` (1 when empty), `zero_point = clamp(round(-lo / scale), 0, 255)`;
    /// the same rule as the kernels' per-row quantization.
    public static func activationParameters(lo: Float, hi: Float) -> (scale: Float, zeroPoint: Int32) {
        let l = min(lo, 0), h = max(hi, 0)
        var s = (h - l) / 255
        if !(s > 0) || !s.isFinite { s = 1 }
        let z = (-l / s).rounded(.toNearestOrEven)
        return (s, Int32(min(255, max(0, z))))
    }

    /// The value an activation `x` stands for after quantization with `(scale, zeroPoint)`.
    @inline(__always)
    public static func fakeQuantizeActivation(_ x: Float, scale: Float, zeroPoint: Int32) -> Float {
        let q = min(255, max(0, (x * (1 / scale)).rounded(.toNearestOrEven) + Float(zeroPoint)))
        return (q - Float(zeroPoint)) * scale
    }
}
