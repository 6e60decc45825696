import Foundation
import SwConfig
import SwTensor

/// `y = 1 / (1 + exp(-x))` elementwise, like `torch.nn.Sigmoid()`. Backward from the output:
/// `dx = dy y (1 - y)`. Any shape; no parameters.
public final class Sigmoid: ElementwiseActivation {
    public let typeName = "sigmoid"
    public let buffers: ElementwiseBuffers
    public init(shape: [Int]) { buffers = ElementwiseBuffers(shape: shape) }

    @inline(__always)
    public static func value(_ x: Float, saved: inout Float) -> Float { 1 / (1 + exp(-x)) }

    @inline(__always)
    public static func derivative(_ dy: Float, x: Float, y: Float, saved: Float) -> Float { dy * y * (1 - y) }

    /// The config entry of type `"sigmoid"`.
    public static let builder = LayerBuilder("sigmoid", keys: []) { _, input, _ in Sigmoid(shape: input) }
}
