/// A model rewrite as one walk by path (like mlx-swift's `quantize(model:filter:)` over a
/// module tree): `transform(path, layer)` is asked for every layer below the root, parents
/// before children; it returns a replacement or `nil` to keep the layer and look inside it.
/// A replaced layer's children are not visited. Composites whose children changed are rebuilt
/// with `replacingChildren`, which checks that the shapes still chain; untouched subtrees are
/// kept as they are (same instances).
///
/// The returned layers are not bound to any parameter buffers: `Model.rewrite` rebuilds the
/// model's `ParameterStore` and carries the values over.
extension Layer {
    /// This layer with its descendants rewritten by `transform`, or `self` when nothing
    /// changed. `path` is this layer's own path (`""` for the model's network). Each
    /// replacement takes over its predecessor's `needsInputGradient`.
    public func rewritingChildren(path: String = "",
                                  _ transform: (_ path: String, _ layer: any Layer) throws -> (any Layer)?) throws -> any Layer {
        let kids = children
        guard !kids.isEmpty else { return self }
        var changed = false
        var next: [any Layer] = []
        for (name, child) in kids {
            let at = childPath(path, name)
            if let replacement = try transform(at, child) {
                replacement.needsInputGradient = child.needsInputGradient
                next.append(replacement)
                changed = changed || replacement !== child
            } else {
                let rebuilt = try child.rewritingChildren(path: at, transform)
                next.append(rebuilt)
                changed = changed || rebuilt !== child
            }
        }
        return changed ? try replacingChildren(next, path: path) : self
    }

    /// Every layer below this one with its path (`"2"`, `"2.layers.0"`), depth first, parents
    /// before children.
    public var descendants: [(path: String, layer: any Layer)] {
        allLayers().dropFirst().map { (path: $0.name, layer: $0.layer) }
    }

    /// The descendant at `path` (`"3.attn.qkv"`), or `nil`.
    public func layer(at path: String) -> (any Layer)? {
        var current: any Layer = self
        if path.isEmpty { return current }
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard let next = current.children.first(where: { $0.name == part })?.layer else { return nil }
            current = next
        }
        return current
    }
}
