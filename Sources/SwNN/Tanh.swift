import Foundation
import SwConfig
import SwTensor

/// `y = tanh(x)` elementwise, like `torch.nn.Tanh()`. Backward from the output:
/// `dx = dy (1 - y²)`. Any shape; no parameters.
public final class Tanh: ElementwiseActivation {
    public let typeName = "tanh"
    public let buffers: ElementwiseBuffers
    public init(shape: [Int]) { buffers = ElementwiseBuffers(shape: shape) }

    @inline(__always)
    public static func value(_ x: Float, saved: inout Float) -> Float { tanh(x) }

    @inline(__always)
    public static func derivative(_ dy: Float, x: Float, y: Float, saved: Float) -> Float { dy * (1 - y * y) }

    /// The config entry of type `"tanh"`.
    public static let builder = LayerBuilder("tanh", keys: []) { _, input, _ in Tanh(shape: input) }
}
