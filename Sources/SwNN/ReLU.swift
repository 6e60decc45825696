import SwConfig
import SwTensor

/// `max(x, 0)` elementwise. No parameters; any shape.
public final class ReLU: ElementwiseActivation {
    public let typeName = "relu"
    public let buffers: ElementwiseBuffers
    public init(shape: [Int]) { buffers = ElementwiseBuffers(shape: shape) }

    @inline(__always)
    public static func value(_ x: Float, saved: inout Float) -> Float { max(x, 0) }

    /// From the output; the load of `dy` is unconditional, so the loop vectorises.
    @inline(__always)
    public static func derivative(_ dy: Float, x: Float, y: Float, saved: Float) -> Float { y > 0 ? dy : 0 }

    /// The config entry of type `"relu"`.
    public static let builder = LayerBuilder("relu", keys: []) { _, input, _ in ReLU(shape: input) }
}
