import SwTensor

/// An optimizer that updates one flat parameter buffer from one flat gradient buffer of the
/// same layout (`ParameterStore.values` / `.gradients`) in a single pass, like llm.c's
/// `gpt2_update`.
///
/// Each optimizer follows the update rule of its PyTorch namesake exactly (same order of
/// operations, Float32 arithmetic, the same first-step behaviour), so a run can be checked
/// against `torch.optim` on the same data.
///
/// State: every per-element state (a moment) is one flat buffer with the parameters' layout,
/// listed in `stateTensors` under PyTorch's state names (`"exp_avg"`, `"exp_avg_sq"`,
/// `"momentum_buffer"`). To restore a checkpoint, copy into those tensors and set `stepCount`.
/// The optimizer never allocates in `step` and writes to the gradients only when asked to
/// zero them (`zeroSources`).
///
/// The inner loops are the C kernels of `CKernels` (AVX-512 when the CPU has it, else a
/// scalar loop giving bit-identical results).
public protocol Optimizer: AnyObject {
    /// A short lower-case name, as in the config (`"sgd"`, `"adam"`, `"adamw"`).
    var name: String { get }
    /// The number of elements of the buffers this optimizer updates.
    var count: Int { get }
    /// Completed steps; `step` increments it before computing the update, so inside the
    /// update it is PyTorch's `t` (1 on the first step).
    var stepCount: Int { get set }
    /// The state buffers (each with `count` elements), by PyTorch state name.
    var stateTensors: [(name: String, tensor: Tensor)] { get }
    /// The update itself, behind every entry point below: runs this optimizer's kernel over
    /// `range` with gradient `g` at the current `stepCount`, which it does not change. Call the
    /// entry points (`step`, `update(parameters:gradient:lr:range:zeroGradient:)`) instead.
    func apply(_ g: GradientSources, to parameters: Tensor, lr: Float, range: Range<Int>)
    /// Moves the state to a new parameter layout after a model rewrite: each state buffer is
    /// replaced by one of `remap.newCount` elements from `allocate` (zeroed by the remap)
    /// holding the old state of every carried piece at its new range; the state of fresh
    /// elements is zero. `count` becomes `remap.newCount`; `stepCount` is kept (Adam's bias
    /// correction is per buffer, so fresh elements take their first update at the current
    /// step's correction). Buffers obtained from `stateTensors` before the call are stale.
    func remapState(_ remap: ParameterRemap, allocate: (_ count: Int) -> Tensor)
}

extension Optimizer {
    /// `remapState(_:allocate:)` into private memory.
    public func remapState(_ remap: ParameterRemap) {
        remapState(remap, allocate: { Tensor(zeros: [$0]) })
    }

    /// Applies one update to the elements `range` of `parameters` with learning rate `lr`
    /// (both tensors have `count` elements; the rest is left alone). A pipeline stage updates
    /// only the slice of the flat buffer its layers own; the step count is per call.
    /// This is `step(parameters:summing:lr:range:zeroSources:)` with one source and no zeroing.
    public func step(parameters: Tensor, gradients: Tensor, lr: Float, range: Range<Int>) {
        checkBuffers(parameters, gradients, range)
        stepCount += 1
        withGradientSources(gradients, offset: range.lowerBound) { apply($0, to: parameters, lr: lr, range: range) }
    }

    /// One update of `range` in which the gradient of element i is
    /// `sources[0][i] + sources[1][i] + ...` (Float32, summed left to right in this order);
    /// afterwards, when `zeroSources`, every source is set to 0 over `range`.
    ///
    /// One pass over the memory: each source element is read once and, when zeroing, set to
    /// 0 right after it is read. Every source has `count` elements; only `range` of each is
    /// read or written, so the sources may live in memory other processes use outside
    /// `range` (a node-shared gradient buffer per rank). `sources` must not be empty, and no
    /// source may overlap another, the parameters or the state.
    public func step(parameters: Tensor, summing sources: [Tensor], lr: Float, range: Range<Int>, zeroSources: Bool) {
        checkBuffers(parameters, sources, range)
        stepCount += 1
        withGradientSources(sources, offset: range.lowerBound, zero: zeroSources) {
            apply($0, to: parameters, lr: lr, range: range)
        }
    }

    /// One piece of a step that is applied in pieces: updates `range` with the gradient of
    /// element `range.lowerBound + i` at `gradient[i]` (set to 0 after it is read when
    /// `zeroGradient`), at the current `stepCount`. The caller counts the step once
    /// (`stepCount += 1`) before its pieces, so Adam's bias correction is the same in every
    /// piece; the pieces of one step must not overlap. For a weight gradient that is computed
    /// a block at a time and never stored whole (`gradient` then points into a scratch block).
    public func update(parameters: Tensor, gradient: UnsafeMutablePointer<Float>, lr: Float, range: Range<Int>,
                       zeroGradient: Bool) {
        precondition(parameters.count == count, "\(name).update: optimizer built for \(count) elements, got parameters \(parameters.count)")
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "\(name).update: range \(range) outside 0..<\(count)")
        precondition(stepCount > 0, "\(name).update: count the step (stepCount += 1) before its pieces")
        let start: UnsafeMutablePointer<Float>? = gradient
        withUnsafePointer(to: start) {
            apply(GradientSources(pointers: $0, count: 1, zero: zeroGradient), to: parameters, lr: lr, range: range)
        }
    }

    /// Applies one update to every element of `parameters` with learning rate `lr`.
    public func step(parameters: Tensor, gradients: Tensor, lr: Float) {
        step(parameters: parameters, gradients: gradients, lr: lr, range: 0..<count)
    }

    /// Applies one update to every element of `parameters`, the gradient being the sum of
    /// `sources` (see `step(parameters:summing:lr:range:zeroSources:)`).
    public func step(parameters: Tensor, summing sources: [Tensor], lr: Float, zeroSources: Bool) {
        step(parameters: parameters, summing: sources, lr: lr, range: 0..<count, zeroSources: zeroSources)
    }

    /// Checks the buffers passed to `step` (a programmer error if they do not match).
    @inline(__always)
    func checkBuffers(_ parameters: Tensor, _ gradients: Tensor, _ range: Range<Int>) {
        precondition(parameters.count == count && gradients.count == count,
                     "\(name).step: optimizer built for \(count) elements, got parameters \(parameters.count), gradients \(gradients.count)")
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "\(name).step: range \(range) outside 0..<\(count)")
    }

    /// Checks the buffers passed to the summing `step` (a programmer error if they do not match).
    @inline(__always)
    func checkBuffers(_ parameters: Tensor, _ sources: [Tensor], _ range: Range<Int>) {
        checkSources(sources, count: count, caller: "\(name).step")
        precondition(parameters.count == count, "\(name).step: optimizer built for \(count) elements, got parameters \(parameters.count)")
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "\(name).step: range \(range) outside 0..<\(count)")
    }
}
