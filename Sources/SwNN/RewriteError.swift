/// Why a model rewrite was refused: the replaced layers do not fit together. Each case
/// names the layer's path (`"2"`, `"3.attn.qkv"`), the shape its place needs and the shape it has.
public enum RewriteError: Error, Equatable, CustomStringConvertible {
    /// The layer at `path` takes samples of shape `found`, where the layers before it give `expected`.
    case inputShape(path: String, expected: [Int], found: [Int])
    /// The layer at `path` gives samples of shape `found`, where its place needs `expected`
    /// (the model's output, a residual body, a transformer block's parts).
    case outputShape(path: String, expected: [Int], found: [Int])
    /// The composite at `path` cannot hold the replacement (`reason` says why).
    case unsupported(path: String, reason: String)

    public var description: String {
        switch self {
        case let .inputShape(path, expected, found):
            return "rewrite: layer \(path) takes input of shape \(found), but the layers before it give \(expected)\n  hint: replace the neighbouring layers too, so the shapes chain"
        case let .outputShape(path, expected, found):
            return "rewrite: layer \(path) gives output of shape \(found), but its place needs \(expected)\n  hint: keep the output shape, or replace the layers after it too"
        case let .unsupported(path, reason):
            return "rewrite: layer \(path): \(reason)"
        }
    }
}
