import Foundation
import SwConfig
import SwTensor

/// Gaussian error linear unit, exact form: `y = x Φ(x) = x (1 + erf(x / sqrt 2)) / 2`, like
/// `torch.nn.GELU()` (approximate="none"). Backward: `dx = dy (Φ(x) + x φ(x))` with
/// `φ(x) = exp(-x² / 2) / sqrt(2 π)`. Elementwise; any shape; no parameters.
/// `erf` and `exp` are `fastErf` and `fastExp`, branch-free approximations that vectorise
/// (libm's `erff` and `expf` took a third of a transformer's training step). The layer's
/// loops are the same functions in C, 16 lanes with FMA, over the thread pool
/// (`VectorKernels.geluForward` / `geluBackward`); `value` and `derivative` are the scalar
/// reference of the same math.
public final class GELU: ElementwiseActivation {
    public let typeName = "gelu"
    public let buffers: ElementwiseBuffers
    private var out = BufferSlot()
    private var outShared = false   // the output lives in shared memory: recomputed for backward
    private var dx = BufferSlot()
    public init(shape: [Int]) { buffers = ElementwiseBuffers(shape: shape) }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let y = out.reuse(x.shape)
        buffers.input = x
        VectorKernels.geluForward(count: x.count, x: x.pointer, y: y.pointer)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let b = buffers
        guard b.needsInputGradient else { return dy }
        let g = dx.reuse(dy.shape)
        VectorKernels.geluBackward(count: dy.count, x: b.input!.pointer, dy: dy.pointer, dx: g.pointer)
        return g
    }

    public func shareBackwardMemory(with other: any Layer) {
        guard let o = other as? GELU, o !== self, o.inputShape == inputShape else { return }
        dx = o.dx
    }

    /// The output is written again from the kept input (same kernel, same bits).
    public func shareRecomputedOutput(with other: any Layer) {
        guard let o = other as? GELU, o !== self, o.inputShape == inputShape else { return }
        out = o.out
        outShared = true
        o.outShared = true
    }

    public func recomputeOutput() {
        guard outShared, let x = buffers.input else { return }
        VectorKernels.geluForward(count: x.count, x: x.pointer, y: out.reuse(x.shape).pointer)
    }

    @inline(__always)
    public static func value(_ x: Float, saved: inout Float) -> Float {
        let r: Float = 0.707_106_781_186_547_6                  // 1 / sqrt 2
        return 0.5 * x * (1 + fastErf(x * r))
    }

    /// From the input.
    @inline(__always)
    public static func derivative(_ dy: Float, x v: Float, y: Float, saved: Float) -> Float {
        let r: Float = 0.707_106_781_186_547_6                  // 1 / sqrt 2
        let c: Float = 0.398_942_280_401_432_7                  // 1 / sqrt(2 π)
        let cdf = 0.5 * (1 + fastErf(v * r))
        let pdf = c * fastExp(-0.5 * v * v)
        return dy * (cdf + v * pdf)
    }

    /// The config entry of type `"gelu"`.
    public static let builder = LayerBuilder("gelu", keys: []) { _, input, _ in GELU(shape: input) }
}

/// `erf(x)` within 5e-7 (absolute) for every Float: Eigen's `generic_fast_erf_float`, an odd
/// degree-13 over even degree-8 rational function of `x` clamped to [-4, 4] (beyond which
/// erf rounds to ±1 in Float). Branch-free, so loops over it vectorise.
@inline(__always)
func fastErf(_ v: Float) -> Float {
    let x = Swift.min(Swift.max(v, -4), 4)
    let x2 = x * x
    var p: Float = -2.72614225801306e-10
    p = p * x2 + 2.77068142495902e-08
    p = p * x2 - 2.10102402082508e-06
    p = p * x2 - 5.69250639462346e-05
    p = p * x2 - 7.34990630326855e-04
    p = p * x2 - 2.95459980854025e-03
    p = p * x2 - 1.60960333262415e-02
    var q: Float = -1.45660718464996e-05
    q = q * x2 - 2.13374055278905e-04
    q = q * x2 - 1.68282697438203e-03
    q = q * x2 - 7.37332916720468e-03
    q = q * x2 - 1.42647390514189e-02
    return x * p / q
}

/// `exp(x)` within 3e-7 relative for `x` in [-87, 88] (0 below, clamped above): `x = n ln 2 + r`
/// with `|r| <= ln 2 / 2` (Cody-Waite, two-part ln 2), a degree-6 Taylor polynomial of `exp(r)`,
/// scaled by `2^n` through the exponent bits. Branch-free, so loops over it vectorise.
@inline(__always)
func fastExp(_ v: Float) -> Float {
    let x = Swift.min(Swift.max(v, -87), 88)
    // Round x / ln 2 to the nearest integer n by adding 1.5 * 2^23: n sits in the low bits.
    let m = x * 1.442_695_04 + 12_582_912
    let n = m - 12_582_912
    let r = (x - n * 0.693_145_751_953_125) - n * 1.428_606_765_330_187_045e-06
    var p: Float = 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    // 2^n: the exponent field n + 127 (wrapping integer ops, so the loop vectorises).
    let scale = Float(bitPattern: (m.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
    return v < -87 ? 0 : p * scale
}
