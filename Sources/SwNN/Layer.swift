import SwTensor

/// A layer of a network: a function of a batch of inputs with a hand-written backward.
///
/// Conventions every layer follows:
/// - Activations are row-major with the batch first: input `(B, inputShape...)`, output
///   `(B, outputShape...)`. Shapes of one sample exclude the batch.
/// - `forward` returns a tensor the layer owns and reuses on the next call (no allocation in
///   the steady state); the caller must not keep it across steps. It may keep a reference to
///   its input for backward: the input must stay unchanged until `backward` returns.
/// - `backward(dy)` *accumulates* (`+=`) into the parameter gradients (so gradient
///   accumulation and micro-batches add up) and returns `dL/dx`, which it overwrites, also
///   owned by the layer. When `needsInputGradient` is false (the first layer), it may skip
///   computing `dx` and return `dy` or an empty tensor.
/// - Parameters are declared once (`parameterShapes`, in `torch.nn` state-dict order) and
///   handed back by `bind` as views into the model's flat buffers.
public protocol Layer: AnyObject {
    /// The config name of the layer type ("dense", "conv1d", ...).
    var typeName: String { get }
    /// The shape of one input sample.
    var inputShape: [Int] { get }
    /// The shape of one output sample.
    var outputShape: [Int] { get }
    /// Own parameters as (local name, shape), in PyTorch's order ("weight" before "bias").
    var parameterShapes: [(name: String, shape: [Int])] { get }
    /// Sub-layers of a composite, with the name component each adds ("0", "layers").
    var children: [(name: String, layer: any Layer)] { get }
    /// Receives views of this layer's own parameters and gradients, in `parameterShapes` order.
    func bind(parameters: [Tensor], gradients: [Tensor])
    /// The views of own parameters the last `bind` handed over, in `parameterShapes` order
    /// (empty before the first `bind`, and for layers without parameters). A rewrite reads a
    /// replacement layer's values through it.
    var parameterTensors: [Tensor] { get }
    /// Where this layer's values were cut from, when a structured pruning built it from
    /// another layer (`Prunable.keeping`); `Model.rewrite` reads it and then clears it.
    var parameterOrigin: ParameterOrigin? { get set }
    /// A new layer of the same kind, sizes and children (replicas themselves), unbound, with
    /// its own activation buffers; random streams continue from this layer's. Bound to the
    /// same buffers (`ParameterStore(root:sharingWith:)`) it computes what this layer does:
    /// a pipeline stage runs several micro-batches in flight through replicas.
    func replica() -> any Layer
    /// A copy of this composite whose children are `children` (same names and order as
    /// `self.children`), keeping everything else; `path` names this layer in errors. Throws
    /// `RewriteError` when a child's shapes do not fit. A layer without children returns itself.
    func replacingChildren(_ children: [any Layer], path: String) throws(RewriteError) -> any Layer
    /// Initialises own parameters as PyTorch does for the same layer.
    func resetParameters(rng: inout RNG)
    /// Computes the output for a batch.
    func forward(_ x: Tensor, training: Bool) -> Tensor
    /// Propagates `dy` (the gradient of the loss with respect to the last output).
    func backward(_ dy: Tensor) -> Tensor
    /// Whether `backward` must compute the input gradient (false for the first layer).
    var needsInputGradient: Bool { get set }
    /// Keeps this layer's backward memory (returned input gradient, backward scratch) in
    /// `other`'s buffers, when `other` is a layer of the same kind and shapes; see `BufferSlot`
    /// for when that is safe. Composites pair their children.
    func shareBackwardMemory(with other: any Layer)
    /// Keeps this layer's output in `other`'s buffer and recomputes it in `recomputeOutput()`
    /// (layers whose output is cheap to recompute from their kept input; others ignore it).
    func shareRecomputedOutput(with other: any Layer)
    /// Keeps this layer's output in `other`'s buffer: the caller promises that nothing reads
    /// the output after the forward that made it.
    func shareTransientOutput(with other: any Layer)
    /// Writes the output of the last forward again, when it lives in shared memory
    /// (`shareRecomputedOutput`); a container calls it right before the backward of the layer
    /// that reads that output. Nothing for other layers.
    func recomputeOutput()
}

extension Layer {
    public var parameterShapes: [(name: String, shape: [Int])] { [] }
    public var children: [(name: String, layer: any Layer)] { [] }
    public func bind(parameters: [Tensor], gradients: [Tensor]) {}
    public var parameterTensors: [Tensor] { [] }
    public var parameterOrigin: ParameterOrigin? {
        get { nil }
        set {}
    }
    public func replacingChildren(_ children: [any Layer], path: String) throws(RewriteError) -> any Layer {
        precondition(children.isEmpty, "\(typeName) at \(path) has no children to replace")
        return self
    }
    public func resetParameters(rng: inout RNG) {}

    /// The number of parameters this layer owns directly.
    public var ownParameterCount: Int {
        parameterShapes.reduce(0) { $0 + Tensor.elementCount($1.shape) }
    }
}

/// A layer that draws random numbers while training (dropout): its stream is part of the
/// training state that a checkpoint saves.
public protocol StochasticLayer: Layer {
    var rng: RNG { get set }
}

/// Token id `i` of `x` (ids stored as Float) for an embedding over `vocab` entries; anything
/// but an integer in `0..<vocab` is a programmer error (the data loaders check labels).
@inline(__always)
func tokenID(_ x: Tensor, _ i: Int, vocab: Int, layer: String) -> Int {
    let v = x.pointer[i]
    guard v >= 0, v < Float(vocab), v == v.rounded(.towardZero) else {
        preconditionFailure("\(layer): token id \(v) at flat position \(i) of the input is not an integer in 0..<\(vocab) (vocab)")
    }
    return Int(v)
}

/// The batch size of `x` for a layer whose sample shape is `sampleShape`.
@inline(__always)
func batchSize(_ x: Tensor, _ sampleShape: [Int]) -> Int {
    let per = Tensor.elementCount(sampleShape)
    precondition(per > 0 && x.count % per == 0, "input of shape \(x.shape) does not hold samples of shape \(sampleShape)")
    return x.count / per
}

/// `existing` when it already has shape `(batch, sample...)`, else `Tensor.reuse` of it: the
/// steady-state path builds no shape array (no allocation).
@inline(__always)
func reuseBatch(_ existing: Tensor?, batch: Int, sample: [Int]) -> Tensor {
    if let t = existing, t.shape.count == sample.count + 1, t.shape[0] == batch,
       t.count == batch * Tensor.elementCount(sample) {
        return t
    }
    return Tensor.reuse(existing, shape: [batch] + sample)
}

/// Scratch memory of at least `count` floats, kept in `buffer` across steps.
@inline(__always)
func scratch(_ buffer: inout Tensor?, count: Int) -> UnsafeMutablePointer<Float> {
    if let t = buffer, t.capacity >= count { return t.pointer }
    let t = Tensor(zeros: [count])
    buffer = t
    return t.pointer
}
