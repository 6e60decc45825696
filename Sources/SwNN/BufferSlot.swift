import SwTensor

/// A tensor a layer rewrites on every step, held in a box so that several layers can hold the
/// same box and so the same memory (`Layer.shareBackwardMemory(with:)` and its two siblings).
/// A layer takes its tensor with `reuse`, which reshapes it, or allocates when it is too small.
public final class BufferSlot {
    public var tensor: Tensor?
    public init() {}

    /// The slot's tensor with shape `shape` (`Tensor.reuse`), kept in the slot.
    @inline(__always)
    public func reuse(_ shape: [Int]) -> Tensor {
        let t = Tensor.reuse(tensor, shape: shape)
        tensor = t
        return t
    }

    /// The slot's tensor with shape `(batch, sample...)`, building no shape array when it
    /// already has it.
    @inline(__always)
    func reuse(batch: Int, sample: [Int]) -> Tensor {
        let t = reuseBatch(tensor, batch: batch, sample: sample)
        tensor = t
        return t
    }

    /// At least `count` floats of scratch.
    @inline(__always)
    func scratch(count: Int) -> UnsafeMutablePointer<Float> { SwNN.scratch(&tensor, count: count) }
}

/// Memory that layers of one model share (what `Sequential` links between its transformer
/// blocks): three kinds, each with its own rule of when sharing is safe.
///
/// - **Backward memory** (`shareBackwardMemory`): the input gradient a layer returns and its
///   backward scratch. Two layers may share it when the backward pass of one has finished,
///   and its returned gradient has been read, before the other's begins (two blocks of one
///   chain: all of block `i + 1`'s inner gradients are dead when block `i` starts).
/// - **Recomputed outputs** (`shareRecomputedOutput`): a layer whose output is cheap to
///   compute from its kept input (GELU, layer norm) keeps it in shared memory and writes it
///   again in `recomputeOutput()`, which its container calls right before the backward of the
///   layer that reads it (`Sequential`: the next layer; `TransformerBlock`: the attention
///   after `ln1`, the MLP after `ln2`). Same function, same input: the same bits.
/// - **Transient outputs** (`shareTransientOutput`): an output that nothing reads after the
///   forward that made it (a transformer block adds its attention's and MLP's outputs to the
///   residual stream at once).
///
/// A layer of another kind or shape than `other` keeps its own memory (the default).
extension Layer {
    public func shareBackwardMemory(with other: any Layer) {}
    public func shareRecomputedOutput(with other: any Layer) {}
    public func shareTransientOutput(with other: any Layer) {}
    public func recomputeOutput() {}
}

extension Sequential {
    /// Links every transformer block of this chain to the first block of the same input
    /// shape: backward memory, recomputed outputs (layer norms, GELU) and transient outputs
    /// (attention and MLP results). A chain of `n` blocks then holds one block's worth of
    /// gradients and scratch instead of `n`.
    func linkBlockMemory() {
        var first: [[Int]: TransformerBlock] = [:]
        for case let block as TransformerBlock in layers {
            guard let f = first[block.inputShape] else { first[block.inputShape] = block; continue }
            block.shareBackwardMemory(with: f)
            block.shareRecomputedOutput(with: f)
            block.shareTransientOutput(with: f)
        }
    }

    /// Pairs of children, position by position, when `other` is a sequential of as many.
    func childPairs(_ other: any Layer) -> Zip2Sequence<[any Layer], [any Layer]>? {
        guard let o = other as? Sequential, o.layers.count == layers.count else { return nil }
        return zip(layers, o.layers)
    }

    public func shareBackwardMemory(with other: any Layer) {
        childPairs(other)?.forEach { $0.shareBackwardMemory(with: $1) }
    }

    public func shareRecomputedOutput(with other: any Layer) {
        childPairs(other)?.forEach { $0.shareRecomputedOutput(with: $1) }
    }

    /// The last child's output is this chain's output.
    public func shareTransientOutput(with other: any Layer) {
        guard let o = other as? Sequential, o.layers.count == layers.count, let last = layers.last else { return }
        last.shareTransientOutput(with: o.layers.last!)
    }
}
