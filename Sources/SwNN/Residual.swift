import SwConfig
import SwTensor

/// `x + f(x)` where `f` is a `Sequential` whose output shape equals its input shape.
///
/// PyTorch equivalent: a module with `self.layers = nn.Sequential(...)` and
/// `forward(x) = x + self.layers(x)`; parameter names nest as `"<i>.layers.<j>.weight"`.
public final class Residual: Layer {
    public let typeName = "residual"
    public let body: Sequential
    public var inputShape: [Int] { body.inputShape }
    public var outputShape: [Int] { body.inputShape }
    public var needsInputGradient = true
    private var out: Tensor?
    private var dx: Tensor?

    public init(_ body: Sequential) {
        precondition(body.outputShape == body.inputShape,
                     "residual body maps \(body.inputShape) to \(body.outputShape); they must match")
        self.body = body
    }

    public var children: [(name: String, layer: any Layer)] { [("layers", body)] }

    /// A residual around the new body, which must be a `Sequential` keeping the shape.
    public func replacingChildren(_ children: [any Layer], path: String) throws(RewriteError) -> any Layer {
        let at = childPath(path, "layers")
        guard children.count == 1, let body = children[0] as? Sequential else {
            throw .unsupported(path: at, reason: "a residual body must be a sequential (replace the layers inside it instead)")
        }
        guard body.inputShape == inputShape else { throw .inputShape(path: at, expected: inputShape, found: body.inputShape) }
        guard body.outputShape == inputShape else { throw .outputShape(path: at, expected: inputShape, found: body.outputShape) }
        let r = Residual(body)
        r.needsInputGradient = needsInputGradient
        return r
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let f = body.forward(x, training: training)        // (B, ...)
        return Residual.sum(x, f, into: &out)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        // The body always propagates to its input: the skip path needs dL/dx anyway.
        let df = body.backward(dy)
        return Residual.sum(dy, df, into: &dx)
    }

    /// `a + b` elementwise into `buffer` (reused when large enough), shaped like `a`.
    @inline(__always)
    private static func sum(_ a: Tensor, _ b: Tensor, into buffer: inout Tensor?) -> Tensor {
        let y = Tensor.reuse(buffer, shape: a.shape)
        buffer = y
        let n = a.count
        let ap = a.pointer, bp = b.pointer, yp = y.pointer
        for i in 0..<n { yp[i] = ap[i] + bp[i] }
        return y
    }
}

extension Residual {
    /// The config entry of type `"residual"`.
    public static let builder = LayerBuilder("residual", keys: ["layers"]) { e, input, nested throws(ConfigError) in
        let list = try e.required("layers", "a list of layers")
        let body = try nested.build(list, input: input)
        guard body.outputShape == input else {
            throw ConfigError(file: e.file, path: e.path + ".layers",
                              message: "a residual body must keep the shape: it maps \(input) to \(body.outputShape)",
                              hint: "make the last layer of the body output \(input)")
        }
        return Residual(body)
    }
}

extension Residual {
    /// A new layer of the same kind and sizes, unbound, with its own activations.
    public func replica() -> any Layer {
        let r = Residual(body.replica() as! Sequential)
        r.needsInputGradient = needsInputGradient
        return r
    }
}
