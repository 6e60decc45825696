import CKernels
import Foundation
import SwTensor

/// Adam with L2-coupled weight decay, exactly as `torch.optim.Adam` (amsgrad off).
///
/// For each element, with gradient `g`, parameter `p`, moments `m` (state `"exp_avg"`) and
/// `v` (state `"exp_avg_sq"`), both zero at start, step `t` (1 on the first step):
/// ```
/// g ← g + λ p                                   if λ ≠ 0 (weight decay as an L2 gradient)
/// m ← m + (1 − β1)(g − m)                       (torch's lerp; = β1 m + (1 − β1) g)
/// v ← β2 v + (1 − β2) g²
/// denom ← √v / √(1 − β2ᵗ) + ε                   (ε added after the bias correction)
/// p ← p − (γ / (1 − β1ᵗ)) · m / denom
/// ```
/// The bias corrections are computed in Double and rounded to Float, as torch does with
/// Python floats; all per-element math is Float32.
public final class Adam: Optimizer {
    public let name = "adam"
    public private(set) var count: Int
    public let beta1: Float
    public let beta2: Float
    public let eps: Float
    public let weightDecay: Float
    public var stepCount = 0
    /// First moment `m`.
    public private(set) var expAvg: Tensor
    /// Second moment `v`.
    public private(set) var expAvgSq: Tensor

    public var stateTensors: [(name: String, tensor: Tensor)] {
        [("exp_avg", expAvg), ("exp_avg_sq", expAvgSq)]
    }

    /// An error message for hyperparameters torch would reject, or `nil` when valid.
    public static func validate(beta1: Float, beta2: Float, eps: Float, weightDecay: Float) -> String? {
        if !(0 <= beta1 && beta1 < 1) { return "betas[0] must be in [0, 1), got \(beta1)" }
        if !(0 <= beta2 && beta2 < 1) { return "betas[1] must be in [0, 1), got \(beta2)" }
        if !(eps >= 0) { return "eps must be >= 0, got \(eps)" }
        if !(weightDecay >= 0) { return "weight_decay must be >= 0, got \(weightDecay)" }
        return nil
    }

    /// Adam over buffers of `count` elements (torch defaults). Invalid hyperparameters are a
    /// programmer error (validate the config with `Adam.validate` first).
    ///
    /// `allocate` makes the two moment buffers (called twice with `count`); it must return a
    /// tensor of `count` elements, all zero. The default allocates private memory; a
    /// data-parallel reducer may pass node-shared memory instead.
    public init(count: Int, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 0, allocate: (_ count: Int) -> Tensor = { Tensor(zeros: [$0]) }) {
        if let message = Adam.validate(beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay) {
            preconditionFailure("Adam: \(message)")
        }
        self.count = count
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        expAvg = allocateState(count, allocate, "Adam exp_avg")
        expAvgSq = allocateState(count, allocate, "Adam exp_avg_sq")
    }

    /// Both moments moved through `remap` (see `Optimizer.remapState`).
    public func remapState(_ remap: ParameterRemap, allocate: (_ count: Int) -> Tensor) {
        precondition(remap.oldCount == count, "Adam.remapState: optimizer built for \(count) elements, the map starts from \(remap.oldCount)")
        expAvg = remapStateBuffer(expAvg, remap, allocate, "Adam exp_avg")
        expAvgSq = remapStateBuffer(expAvgSq, remap, allocate, "Adam exp_avg_sq")
        count = remap.newCount
    }

    /// The shared Adam kernel with L2 (coupled) decay (see `Optimizer.apply`).
    public func apply(_ g: GradientSources, to parameters: Tensor, lr: Float, range: Range<Int>) {
        adamUpdate(parameters: parameters, gradients: g, expAvg: expAvg, expAvgSq: expAvgSq,
                   range: range, step: stepCount, lr: lr, beta1: beta1, beta2: beta2, eps: eps,
                   l2: weightDecay, decay: 1)
    }
}

/// The shared Adam/AdamW update: `p ← decay · p − (γ / bc1) · m / (√v / √bc2 + ε)` after the
/// moment updates, with `l2 · p` (the old `p`) added to the gradient first.
/// Adam passes `l2 = λ, decay = 1`; AdamW passes `l2 = 0, decay = 1 − γλ`. The per-step
/// scalars are computed here (bias corrections in Double, rounded to Float); the per-element
/// math is the `swt_adam_step` kernel.
func adamUpdate(parameters: Tensor, gradients g: GradientSources, expAvg: Tensor, expAvgSq: Tensor,
                range: Range<Int>, step t: Int, lr: Float, beta1: Float, beta2: Float, eps: Float,
                l2: Float, decay: Float) {
    let bc1 = 1 - pow(Double(beta1), Double(t))
    let bc2 = 1 - pow(Double(beta2), Double(t))
    let hp = swt_adam_params(step_size: Float(Double(lr) / bc1), bc2_sqrt: Float(bc2.squareRoot()),
                             w1: 1 - beta1, w2: 1 - beta2, beta2: beta2, eps: eps, l2: l2, decay: decay)
    let lo = range.lowerBound
    swt_adam_step(parameters.pointer + lo, expAvg.pointer + lo, expAvgSq.pointer + lo,
                  g.pointers, g.count, g.zeroFlag, range.count, hp)
}
