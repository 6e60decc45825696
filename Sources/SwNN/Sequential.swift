import SwTensor

/// Layers applied in order, like `torch.nn.Sequential`: child `i` is named `"i"`, so its
/// parameters are `"i.weight"`, `"i.bias"`.
public final class Sequential: Layer {
    public let typeName = "sequential"
    public let layers: [any Layer]
    public let inputShape: [Int]
    public var outputShape: [Int] { layers.last?.outputShape ?? inputShape }
    public var needsInputGradient = true {
        didSet { layers.first?.needsInputGradient = needsInputGradient }
    }

    /// `layers` must chain: each one's input shape is the previous one's output shape.
    /// With `sharingBlockMemory` (the default), transformer blocks of the same shape share
    /// their gradients, scratch and the outputs nothing keeps (`linkBlockMemory`).
    public init(_ layers: [any Layer], inputShape: [Int], sharingBlockMemory: Bool = true) {
        var shape = inputShape
        for (i, l) in layers.enumerated() {
            precondition(l.inputShape == shape, "layer \(i) (\(l.typeName)) expects \(l.inputShape), gets \(shape)")
            shape = l.outputShape
        }
        self.layers = layers
        self.inputShape = inputShape
        if sharingBlockMemory { linkBlockMemory() }
    }

    public var children: [(name: String, layer: any Layer)] {
        layers.enumerated().map { (String($0.offset), $0.element) }
    }

    /// `layers` after checking that they chain from `inputShape`: a layer whose input shape
    /// is not its predecessor's output shape is a `RewriteError.inputShape` naming its path
    /// (`path` + `"." + index`).
    public static func chaining(_ layers: [any Layer], inputShape: [Int], path: String) throws(RewriteError) -> Sequential {
        var shape = inputShape
        for (i, l) in layers.enumerated() {
            guard l.inputShape == shape else {
                throw .inputShape(path: childPath(path, String(i)), expected: shape, found: l.inputShape)
            }
            shape = l.outputShape
        }
        return Sequential(layers, inputShape: inputShape)
    }

    /// Replicas of every layer, in a new sequential.
    public func replica() -> any Layer {
        let s = Sequential(layers.map { $0.replica() }, inputShape: inputShape)
        s.needsInputGradient = needsInputGradient
        return s
    }

    /// A sequential of `children` over the same input shape (they must chain from it; the
    /// output shape may change, the parent checks it), with the same `needsInputGradient`.
    public func replacingChildren(_ children: [any Layer], path: String) throws(RewriteError) -> any Layer {
        let s = try Sequential.chaining(children, inputShape: inputShape, path: path)
        s.needsInputGradient = needsInputGradient
        return s
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        var h = x
        for l in layers { h = l.forward(h, training: training) }
        return h
    }

    public func backward(_ dy: Tensor) -> Tensor {
        var g = dy
        for i in layers.indices.reversed() {
            if i > 0 { layers[i - 1].recomputeOutput() }   // the input layer i reads in backward
            g = layers[i].backward(g)
        }
        return g
    }
}

extension Layer {
    /// Initialises this layer and every descendant (each child gets its own forked stream).
    public func resetAllParameters(rng: inout RNG) {
        resetParameters(rng: &rng)
        for (i, c) in children.enumerated() {
            var r = rng.fork(UInt64(1000 + i))
            c.layer.resetAllParameters(rng: &r)
        }
    }

    /// This layer and every descendant, depth first, with full name prefixes.
    public func allLayers(prefix: String = "") -> [(name: String, layer: any Layer)] {
        var out: [(String, any Layer)] = [(prefix, self)]
        for (n, c) in children {
            out += c.allLayers(prefix: childPath(prefix, n))
        }
        return out
    }
}

/// The path of child `name` of the layer at `path` (`""` is the model's network): `"2"`,
/// `"2.layers"`, `"3.attn.qkv"`, the prefixes of the PyTorch parameter names.
public func childPath(_ path: String, _ name: String) -> String {
    path.isEmpty ? name : path + "." + name
}
