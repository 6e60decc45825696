import Foundation
import SwConfig
import SwTensor

/// Sigmoid-weighted linear unit (swish), `y = x σ(x)` with `σ(x) = 1 / (1 + exp(-x))`, like
/// `torch.nn.SiLU()`. Backward: `dx = dy σ(x) (1 + x (1 − σ(x)))`, with `σ(x)` kept from the
/// forward. Elementwise; any shape; no parameters.
public final class SiLU: ElementwiseActivation {
    public let typeName = "silu"
    public let buffers: ElementwiseBuffers
    public init(shape: [Int]) { buffers = ElementwiseBuffers(shape: shape) }

    /// Saves `σ(x)`.
    public static var savesValue: Bool { true }

    @inline(__always)
    public static func value(_ x: Float, saved: inout Float) -> Float {
        saved = 1 / (1 + exp(-x))
        return x * saved
    }

    @inline(__always)
    public static func derivative(_ dy: Float, x: Float, y: Float, saved s: Float) -> Float {
        dy * s * (1 + x * (1 - s))
    }

    /// The config entry of type `"silu"`.
    public static let builder = LayerBuilder("silu", keys: []) { _, input, _ in SiLU(shape: input) }
}
