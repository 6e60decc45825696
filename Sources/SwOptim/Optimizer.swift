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
/// The optimizer never writes to the gradients and never allocates in `step`.
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
    /// Applies one update to the elements `range` of `parameters` with learning rate `lr`
    /// (both tensors have `count` elements; the rest is left alone). A pipeline stage updates
    /// only the slice of the flat buffer its layers own; the step count is per call.
    func step(parameters: Tensor, gradients: Tensor, lr: Float, range: Range<Int>)
}

extension Optimizer {
    /// Applies one update to every element of `parameters` with learning rate `lr`.
    public func step(parameters: Tensor, gradients: Tensor, lr: Float) {
        step(parameters: parameters, gradients: gradients, lr: lr, range: 0..<count)
    }

    /// Checks the buffers passed to `step` (a programmer error if they do not match).
    @inline(__always)
    func checkBuffers(_ parameters: Tensor, _ gradients: Tensor, _ range: Range<Int>) {
        precondition(parameters.count == count && gradients.count == count,
                     "\(name).step: optimizer built for \(count) elements, got parameters \(parameters.count), gradients \(gradients.count)")
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "\(name).step: range \(range) outside 0..<\(count)")
    }
}
