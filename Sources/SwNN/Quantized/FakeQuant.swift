import SwTensor

/// Fake quantization of one `dense` / `conv1d` / `conv2d` layer for quantization-aware
/// training: the layer's forward uses `fq(W)` (symmetric int8 per output channel, scales from
/// the current weights) and `fq(x)` (uint8 with the observed input range), and its backward
/// passes gradients straight through (STE): `dW` is taken at `fq(W)` and applied to `W`, and
/// `dx` is the gradient at `fq(x)` where `x` lies inside the quantization range, 0 where it
/// was clamped.
///
/// The observer: while `observing`, each training forward widens `stepLow` / `stepHigh` with
/// the batch's min and max; the trainer's quantization hook all-reduces them across ranks after
/// every step and moves `low` / `high` (so every rank holds the same range). Activations are
/// fake-quantized once a range exists (`hasRange`) and `enabled` is set.
public final class FakeQuant {
    /// Output channels of the weight (its first axis).
    public let channels: Int
    /// Whether forward fake-quantizes (weights and activations).
    public var enabled = false
    /// Whether training forwards record their input range into `stepLow` / `stepHigh`.
    public var observing = true
    /// The activation range in use (valid when `hasRange`).
    public var low: Float = 0, high: Float = 0
    public var hasRange = false
    /// This rank's input range since the last `resetStep()`.
    public private(set) var stepLow = Float.infinity, stepHigh = -Float.infinity

    private var shadow: Tensor?
    private var xq: Tensor?
    private var lastInput: Tensor?
    private var lastClamp: (Float, Float)?

    public init(channels: Int) { self.channels = channels }

    public func resetStep() { stepLow = .infinity; stepHigh = -.infinity }

    /// The `(scale, zeroPoint)` of the current range.
    public var activationParameters: (scale: Float, zeroPoint: Int32) {
        Int8Quantization.activationParameters(lo: low, hi: high)
    }

    /// The weight the forward uses: `w` itself, or `fq(w)` in a shadow buffer when enabled:
    /// `clamp(round(w / s_c), -127, 127) · s_c` with `s_c = max |w_c| / 127` per output channel.
    public func weight(_ w: Tensor) -> UnsafeMutablePointer<Float> {
        guard enabled else { return w.pointer }
        let s = Tensor.reuse(shadow, shape: w.shape)
        shadow = s
        let inner = w.count / channels
        for c in 0..<channels {
            let src = w.pointer + c * inner, dst = s.pointer + c * inner
            var m: Float = 0
            for i in 0..<inner { m = max(m, abs(src[i])) }
            let scale = Int8Quantization.symmetricScale(absMax: m)
            for i in 0..<inner { dst[i] = Int8Quantization.quantizeWeight(src[i], scale: scale) * scale }
        }
        return s.pointer
    }

    /// The input the forward uses: `x` (observed when training), or `fq(x)` when enabled with a range.
    public func input(_ x: Tensor, training: Bool) -> Tensor {
        if training && observing {
            var (a, b) = (stepLow, stepHigh)
            for i in 0..<x.count { a = min(a, x.pointer[i]); b = max(b, x.pointer[i]) }
            stepLow = a; stepHigh = b
        }
        lastInput = x
        guard enabled && hasRange else { lastClamp = nil; return x }
        let (s, z) = activationParameters
        let q = Tensor.reuse(xq, shape: x.shape)
        xq = q
        for i in 0..<x.count { q.pointer[i] = Int8Quantization.fakeQuantizeActivation(x.pointer[i], scale: s, zeroPoint: z) }
        lastClamp = (Float(0 - z) * s, Float(255 - z) * s)
        return q
    }

    /// Zeroes `dx` where the last forward's input was clamped (the STE's pass-through region is the range).
    public func maskInputGradient(_ dx: Tensor) {
        guard let (lo, hi) = lastClamp, let x = lastInput, x.count == dx.count else { return }
        for i in 0..<dx.count where x.pointer[i] < lo || x.pointer[i] > hi { dx.pointer[i] = 0 }
    }
}
