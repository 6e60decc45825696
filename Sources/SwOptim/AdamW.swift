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
public final class AdamW: AdamFamily {
    /// AdamW over buffers of `count` elements (torch defaults: weight decay 0.01); validation
    /// and `allocate` as in `Adam.init`.
    public init(count: Int, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 0.01, allocate: (_ count: Int) -> Tensor = { Tensor(zeros: [$0]) }) {
        super.init(label: "AdamW", name: "adamw", decoupled: true, count: count, beta1: beta1,
                   beta2: beta2, eps: eps, weightDecay: weightDecay, allocate: allocate)
    }
}
