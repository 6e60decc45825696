import SwTensor

/// Fuses the int8 layers of an inference model so activations between them are not written as
/// float and read back: in every `Sequential`,
/// - a `quantized_dense` followed by a `relu` applies the relu in its GEMM's output stage, and
///   the `relu` becomes `FusedReLU` (its input passed through);
/// - a `quantized_dense` (optionally with that relu) followed by a `quantized_dense` with
///   static input quantization writes that layer's uint8 input directly (the requantize
///   output stage), skipping the float tensor between them.
///
/// The outputs are bit for bit those of the unfused model (the output stage performs the same
/// float operations in the same order as dequantize, relu and quantize one after another).
/// Inference only: the fused model has no backward, and the float output of a layer that feeds
/// the next one's uint8 input is left unwritten. Parameters and their names do not change.
public enum Int8Fusion {
    /// Fuses `model` in place and returns one line per fusion (`"0+1: relu in the output
    /// stage"`, `"0->2: writes the uint8 input"`).
    @discardableResult
    public static func apply(_ model: Model) throws -> [String] {
        var relus: Set<String> = []
        for (path, layer) in model.network.allLayers() {
            guard let seq = layer as? Sequential else { continue }
            for (i, l) in seq.layers.enumerated() where l is QuantizedDense && i + 1 < seq.layers.count && seq.layers[i + 1] is ReLU {
                relus.insert(childPath(path, String(i + 1)))
            }
        }
        if !relus.isEmpty {
            try model.rewrite { path, layer in relus.contains(path) ? FusedReLU(shape: layer.inputShape) : nil }
        }
        var done: [String] = []
        for (path, layer) in model.network.allLayers() {
            guard let seq = layer as? Sequential else { continue }
            let ls = seq.layers
            for (i, l) in ls.enumerated() {
                guard let d = l as? QuantizedDense else { continue }
                var j = i + 1
                if j < ls.count, ls[j] is FusedReLU {
                    d.fusedReLU = true
                    done.append("\(childPath(path, String(i)))+\(j): relu in the output stage")
                    j += 1
                }
                if j < ls.count, let next = ls[j] as? QuantizedDense, next.activations == .static, next.inFeatures == d.outFeatures {
                    d.feeds = next
                    done.append("\(childPath(path, String(i)))->\(j): writes the uint8 input")
                }
            }
        }
        return done
    }
}

/// The `relu` after a fused `quantized_dense` (`Int8Fusion`): that layer's output stage
/// already applied it, so the input passes through. Inference only.
public final class FusedReLU: Layer {
    public let typeName = "relu"
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var needsInputGradient = false

    public init(shape: [Int]) { inputShape = shape }

    public func forward(_ x: Tensor, training: Bool) -> Tensor { x }

    public func backward(_ dy: Tensor) -> Tensor {
        preconditionFailure("a relu fused into an int8 layer is inference-only")
    }

    public func replica() -> any Layer { FusedReLU(shape: inputShape) }
}
