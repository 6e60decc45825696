import CKernels
import SwTensor

/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and
/// L2-coupled weight decay, exactly as `torch.optim.SGD`.
///
/// For each element, with gradient `g`, parameter `p`, momentum buffer `b` (state
/// `"momentum_buffer"`), weight decay `λ`, momentum `μ`, dampening `τ`, learning rate `γ`:
/// ```
/// g ← g + λ p                          if λ ≠ 0
/// if μ ≠ 0:
///     b ← g                            on the first step (t = 1): no dampening, as in torch
///     b ← μ b + (1 − τ) g              on later steps
///     g ← g + μ b   if nesterov,  else g ← b
/// p ← p − γ g
/// ```
/// Nesterov needs `μ > 0` and `τ = 0` (torch raises otherwise); see `validate`.
public final class SGD: Optimizer {
    public let name = "sgd"
    public private(set) var count: Int
    public let momentum: Float
    public let dampening: Float
    public let nesterov: Bool
    public let weightDecay: Float
    public var stepCount = 0
    /// The momentum buffer; `nil` when `momentum == 0` (plain SGD keeps no state).
    public private(set) var momentumBuffer: Tensor?

    public var stateTensors: [(name: String, tensor: Tensor)] {
        momentumBuffer.map { [("momentum_buffer", $0)] } ?? []
    }

    /// An error message for hyperparameters torch would reject, or `nil` when they are valid.
    public static func validate(momentum: Float = 0, dampening: Float = 0, nesterov: Bool = false,
                                weightDecay: Float = 0) -> String? {
        if !(momentum >= 0) { return "momentum must be >= 0, got \(momentum)" }
        if !(weightDecay >= 0) { return "weight_decay must be >= 0, got \(weightDecay)" }
        if !dampening.isFinite { return "dampening must be finite, got \(dampening)" }
        if nesterov && (momentum <= 0 || dampening != 0) {
            return "nesterov momentum requires momentum > 0 and dampening = 0 (got momentum \(momentum), dampening \(dampening))"
        }
        return nil
    }

    /// SGD over buffers of `count` elements. Invalid hyperparameters are a programmer error
    /// (validate the config with `SGD.validate` first).
    ///
    /// `allocate` makes the momentum buffer (called once, with `count`, only when
    /// `momentum != 0`); it must return a tensor of `count` elements, all zero. The default
    /// allocates private memory; a data-parallel reducer may pass node-shared memory instead.
    public init(count: Int, momentum: Float = 0, dampening: Float = 0, nesterov: Bool = false,
                weightDecay: Float = 0, allocate: (_ count: Int) -> Tensor = { Tensor(zeros: [$0]) }) {
        if let message = SGD.validate(momentum: momentum, dampening: dampening, nesterov: nesterov,
                                      weightDecay: weightDecay) {
            preconditionFailure("SGD: \(message)")
        }
        self.count = count
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        momentumBuffer = momentum != 0 ? allocateState(count, allocate, "SGD momentum_buffer") : nil
    }

    /// The momentum buffer moved through `remap` (see `Optimizer.remapState`); plain SGD
    /// only changes `count`.
    public func remapState(_ remap: ParameterRemap, allocate: (_ count: Int) -> Tensor) {
        precondition(remap.oldCount == count, "SGD.remapState: optimizer built for \(count) elements, the map starts from \(remap.oldCount)")
        momentumBuffer = momentumBuffer.map { remapStateBuffer($0, remap, allocate, "SGD momentum_buffer") }
        count = remap.newCount
    }

    /// The SGD kernel over `range` at the current step (see `Optimizer.apply`).
    public func apply(_ g: GradientSources, to parameters: Tensor, lr: Float, range: Range<Int>) {
        let lo = range.lowerBound
        let hp = swt_sgd_params(lr: lr, weight_decay: weightDecay, momentum: momentum, keep: 1 - dampening,
                                first_step: stepCount == 1 ? 1 : 0, nesterov: nesterov ? 1 : 0)
        let p = parameters.pointer + lo, mb = momentumBuffer.map { $0.pointer + lo }
        forOptimizerChunks(range.count, g) { off, n, sources in
            swt_sgd_step(p + off, mb.map { $0 + off }, sources, g.count, g.zeroFlag, n, hp)
        }
    }
}
