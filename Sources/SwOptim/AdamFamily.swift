import CKernels
import Foundation
import SwTensor

/// What `Adam` and `AdamW` share: the hyperparameters, the two moment buffers (`m`, state
/// `"exp_avg"`; `v`, state `"exp_avg_sq"`; each one flat buffer of `count` elements, zero at
/// start), their remap, and the update
/// `p ← decay · p − (γ / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)` after the moment updates,
/// with `l2 · p` (the old `p`) added to the gradient first. Adam uses `l2 = λ, decay = 1`
/// (coupled); AdamW uses `l2 = 0, decay = 1 − γλ` (decoupled, computed in Double and rounded
/// to Float, as torch does). Build one through `Adam` or `AdamW`.
public class AdamFamily: Optimizer {
    public let name: String
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
    /// `true`: AdamW's decoupled decay; `false`: Adam's L2 decay.
    let decoupled: Bool
    /// The class name, in messages and state labels (`"Adam"`, `"AdamW"`).
    let label: String

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

    /// Invalid hyperparameters are a programmer error (a precondition naming `label`).
    /// `allocate` makes the two moment buffers (called twice with `count`; see `Adam.init`).
    init(label: String, name: String, decoupled: Bool, count: Int, beta1: Float, beta2: Float,
         eps: Float, weightDecay: Float, allocate: (_ count: Int) -> Tensor) {
        if let message = AdamFamily.validate(beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay) {
            preconditionFailure("\(label): \(message)")
        }
        self.label = label
        self.name = name
        self.decoupled = decoupled
        self.count = count
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        expAvg = allocateState(count, allocate, "\(label) exp_avg")
        expAvgSq = allocateState(count, allocate, "\(label) exp_avg_sq")
    }

    /// Both moments moved through `remap` (see `Optimizer.remapState`).
    public func remapState(_ remap: ParameterRemap, allocate: (_ count: Int) -> Tensor) {
        precondition(remap.oldCount == count, "\(label).remapState: optimizer built for \(count) elements, the map starts from \(remap.oldCount)")
        expAvg = remapStateBuffer(expAvg, remap, allocate, "\(label) exp_avg")
        expAvgSq = remapStateBuffer(expAvgSq, remap, allocate, "\(label) exp_avg_sq")
        count = remap.newCount
    }

    /// The shared Adam kernel with coupled (Adam) or decoupled (AdamW) decay (see
    /// `Optimizer.apply`).
    public func apply(_ g: GradientSources, to parameters: Tensor, lr: Float, range: Range<Int>) {
        let l2: Float = decoupled ? 0 : weightDecay
        let decay: Float = decoupled ? Float(1 - Double(lr) * Double(weightDecay)) : 1
        adamUpdate(parameters: parameters, gradients: g, expAvg: expAvg, expAvgSq: expAvgSq,
                   range: range, step: stepCount, lr: lr, beta1: beta1, beta2: beta2, eps: eps,
                   l2: l2, decay: decay)
    }
}

/// The shared Adam/AdamW update: `p ← decay · p − (γ / bc1) · m / (√v / √bc2 + ε)` after the
/// moment updates, with `l2 · p` (the old `p`) added to the gradient first.
/// Adam passes `l2 = λ, decay = 1`; AdamW passes `l2 = 0, decay = 1 − γλ`. The per-step
/// scalars are computed here (bias corrections in Double, rounded to Float); the per-element
/// math is the `swt_adam_step` kernel (AVX-512, `vsqrtps`), over `ThreadPool` in fixed chunks.
func adamUpdate(parameters: Tensor, gradients g: GradientSources, expAvg: Tensor, expAvgSq: Tensor,
                range: Range<Int>, step t: Int, lr: Float, beta1: Float, beta2: Float, eps: Float,
                l2: Float, decay: Float) {
    let bc1 = 1 - pow(Double(beta1), Double(t))
    let bc2 = 1 - pow(Double(beta2), Double(t))
    let hp = swt_adam_params(step_size: Float(Double(lr) / bc1), bc2_sqrt: Float(bc2.squareRoot()),
                             w1: 1 - beta1, w2: 1 - beta2, beta2: beta2, eps: eps, l2: l2, decay: decay)
    let lo = range.lowerBound
    let (p, m, v) = (parameters.pointer + lo, expAvg.pointer + lo, expAvgSq.pointer + lo)
    forOptimizerChunks(range.count, g) { off, n, sources in
        swt_adam_step(p + off, m + off, v + off, sources, g.count, g.zeroFlag, n, hp)
    }
}
