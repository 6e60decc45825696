import SwTensor

/// All of a model's parameters in one flat Float32 buffer, and their gradients in another of
/// the same layout. Layers hold views; the optimizer, the gradient all-reduce and the
/// checkpoint writer each make one pass over one buffer.
///
/// Layout: parameters in model order (depth first, each layer's own in `parameterShapes`
/// order), packed with no padding. `entries` is the size table: full name (the PyTorch
/// state-dict name, like `"2.layers.0.weight"`), shape and offset.
public final class ParameterStore {
    /// One parameter tensor's place in the flat buffers.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { Tensor.elementCount(shape) }
    }

    /// The size table, in layout order.
    public let entries: [Entry]
    /// All parameter values.
    public let values: Tensor
    /// All gradients (same layout as `values`).
    public let gradients: Tensor
    /// `[gradients]`, the form the optimizers' fused step takes (kept, so a step allocates nothing).
    public private(set) lazy var gradientSources: [Tensor] = [gradients]
    /// The total number of scalars.
    public var count: Int { values.count }

    private var index: [String: Int] = [:]

    /// Walks `root`, lays its parameters out, allocates both buffers and binds every layer.
    public convenience init(root: any Layer) {
        self.init(root: root, sharing: nil)
    }

    /// Binds `root` to the buffers of `other`, which must have been built over a network of
    /// the same layout. The two networks then share parameters and gradients but keep their
    /// own activations: a pipeline stage runs several micro-batches in flight this way.
    public convenience init(root: any Layer, sharingWith other: ParameterStore) {
        self.init(root: root, sharing: other)
    }

    /// Binds `root` to `values` and `gradients`, buffers the caller owns (memory shared with
    /// other processes, say) with exactly this layout's element count. Their contents are kept.
    public convenience init(root: any Layer, values: Tensor, gradients: Tensor) {
        self.init(root: root, sharing: nil, buffers: (values, gradients))
    }

    private init(root: any Layer, sharing: ParameterStore?, buffers: (Tensor, Tensor)? = nil) {
        var entries: [Entry] = []
        var leaves: [(any Layer, Range<Int>)] = []
        var offset = 0
        func visit(_ layer: any Layer, prefix: String) {
            let first = entries.count
            for (name, shape) in layer.parameterShapes {
                entries.append(Entry(name: prefix + name, shape: shape, offset: offset))
                offset += Tensor.elementCount(shape)
            }
            leaves.append((layer, first..<entries.count))
            for (name, child) in layer.children { visit(child, prefix: prefix + name + ".") }
        }
        visit(root, prefix: "")
        self.entries = entries
        if let sharing {
            precondition(sharing.entries == entries, "ParameterStore(sharingWith:): the layouts differ")
            values = sharing.values
            gradients = sharing.gradients
        } else if let (v, g) = buffers {
            precondition(v.count == offset && g.count == offset,
                         "ParameterStore: the model has \(offset) parameters, the buffers hold \(v.count) and \(g.count)")
            values = v
            gradients = g
        } else {
            values = Tensor(zeros: [offset])
            gradients = Tensor(zeros: [offset])
        }
        for (i, e) in entries.enumerated() { index[e.name] = i }
        for (layer, range) in leaves where !range.isEmpty {
            let ps = range.map { Tensor(viewing: values.pointer + entries[$0].offset, shape: entries[$0].shape, owner: values) }
            let gs = range.map { Tensor(viewing: gradients.pointer + entries[$0].offset, shape: entries[$0].shape, owner: gradients) }
            layer.bind(parameters: ps, gradients: gs)
        }
    }

    /// The entry called `name`, if any.
    public func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    /// A view of parameter `name`.
    public func value(_ name: String) -> Tensor? {
        entry(name).map { Tensor(viewing: values.pointer + $0.offset, shape: $0.shape, owner: values) }
    }

    /// A view of the gradient of parameter `name`.
    public func gradient(_ name: String) -> Tensor? {
        entry(name).map { Tensor(viewing: gradients.pointer + $0.offset, shape: $0.shape, owner: gradients) }
    }

    /// Sets every gradient to zero.
    public func zeroGradients() { gradients.zero() }
}
