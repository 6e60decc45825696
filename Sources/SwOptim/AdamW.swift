import SwTensor

/// Adam with decoupled weight decay (Loshchilov & Hutter), exactly as `torch.optim.AdamW`
/// (amsgrad off; torch's default weight decay 0.01).
///
/// For each element, with the same notation as `Adam`:
/// ```
/// p ← p · (1 − γλ)                              (decoupled: the gradient is left alone)
/// m ← m + (1 − β1)(g − m)
/// v ← β2 v + (1 − β2) g²
/// p ← p − (γ / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
/// ```
/// `1 − γλ` is computed in Double and rounded to Float, as torch does.
public final class AdamW: Optimizer {
    public let name = "adamw"
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
        Adam.validate(beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay)
    }

    /// AdamW over buffers of `count` elements (torch defaults). Invalid hyperparameters are a
    /// programmer error (validate the config with `AdamW.validate` first).
    ///
    /// `allocate` makes the two moment buffers (called twice with `count`); it must return a
    /// tensor of `count` elements, all zero. The default allocates private memory; a
    /// data-parallel reducer may pass node-shared memory instead.
    public init(count: Int, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 0.01, allocate: (_ count: Int) -> Tensor = { Tensor(zeros: [$0]) }) {
        if let message = AdamW.validate(beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay) {
            preconditionFailure("AdamW: \(message)")
        }
        self.count = count
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        expAvg = allocateState(count, allocate, "AdamW exp_avg")
        expAvgSq = allocateState(count, allocate, "AdamW exp_avg_sq")
    }

    /// Both moments moved through `remap` (see `Optimizer.remapState`).
    public func remapState(_ remap: ParameterRemap, allocate: (_ count: Int) -> Tensor) {
        precondition(remap.oldCount == count, "AdamW.remapState: optimizer built for \(count) elements, the map starts from \(remap.oldCount)")
        expAvg = remapStateBuffer(expAvg, remap, allocate, "AdamW exp_avg")
        expAvgSq = remapStateBuffer(expAvgSq, remap, allocate, "AdamW exp_avg_sq")
        count = remap.newCount
    }

    /// The shared Adam kernel with decoupled decay (see `Optimizer.apply`).
    public func apply(_ g: GradientSources, to parameters: Tensor, lr: Float, range: Range<Int>) {
        let decay = Float(1 - Double(lr) * Double(weightDecay))
        adamUpdate(parameters: parameters, gradients: g, expAvg: expAvg, expAvgSq: expAvgSq,
                   range: range, step: stepCount, lr: lr, beta1: beta1, beta2: beta2, eps: eps,
                   l2: 0, decay: decay)
    }
}
