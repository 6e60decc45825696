import SwNN
import SwTensor

/// What a hook keeps across a checkpoint: named Float tensors and a small JSON text.
///
/// Saved in the checkpoint's `hooks.safetensors` (written only when hooks are registered):
/// tensor `"<hook name>.<tensor name>"`, and the JSON text as metadata `"<hook name>"`. A
/// resume hands the same tensors (same bytes) and the same text back to `restore(_:)`.
public struct HookState {
    /// The tensors, in the order they are saved.
    public var tensors: [(name: String, tensor: Tensor)]
    /// A JSON document (any text; stored as it is).
    public var json: String

    public init(tensors: [(name: String, tensor: Tensor)] = [], json: String = "{}") {
        self.tensors = tensors
        self.json = json
    }
}

/// A hook the trainer calls during a step, with state that checkpoints save and resumes
/// restore. Register the same hooks on every rank, before restoring a checkpoint. Rank 0
/// writes checkpoints, so its `checkpointState()` must describe the whole model (keep the
/// state the same on every rank); every rank restores from the same file.
public protocol TrainingHook: AnyObject {
    /// A name unique among the trainer's hooks; it prefixes the hook's tensors in the checkpoint.
    var name: String { get }
    /// The state to save now (views are fine: they are written before the next step).
    func checkpointState() -> HookState
    /// Restores the state `checkpointState()` returned when the checkpoint was written.
    func restore(_ state: HookState) throws
}

/// An extra term of the loss (distillation, an output penalty), evaluated after the model's
/// loss on every micro-batch of the step, on the ranks that evaluate the loss (the last
/// pipeline stage).
///
/// With the model's loss `L = Σ_terms ℓ` and the step's `gradientScale` `s` (the trainer
/// scales by 1 / (terms in the global batch · accumulation steps), so summing over ranks and
/// micro-batches gives the gradient of the global mean), the hook adds its term `T` as
/// ```
/// return T                                   // in the loss's units: summed, not scaled
/// outputGradient += s · ∂T/∂output           // same layout as output
/// ```
/// The returned value joins the logged loss (which the trainer divides by the terms).
public protocol LossTermHook: TrainingHook {
    /// `input` (B, input...), `output` and `outputGradient` (B, output...), `targets` as the
    /// dataset gives them. Must not allocate in the steady state.
    func addLossTerm(input: Tensor, output: Tensor, targets: Tensor, outputGradient: Tensor,
                     gradientScale: Float) -> Double
}

/// Called after every optimizer step (pruning masks, weight constraints).
///
/// `ranges` are the flat elements this rank has just updated, disjoint and in increasing order
/// (all of them on one process; the rank's shard with node-shared parameters, or its rows of
/// every dense layer plus the rest of its shard with per-node weight gradients; the stage's
/// slice in a pipeline). The hook may change `parameters.values` only inside `ranges`: peers
/// update and change the rest, and the trainer publishes the parameters to them after the
/// hooks ran. Every element is in exactly one rank's ranges of a node.
public protocol PostUpdateHook: TrainingHook {
    /// `step` is the number of completed optimizer steps (1 after the first).
    func afterUpdate(step: Int, parameters: ParameterStore, ranges: [Range<Int>]) throws
}
