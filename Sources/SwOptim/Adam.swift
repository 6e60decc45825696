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
public final class Adam: AdamFamily {
    /// Adam over buffers of `count` elements (torch defaults). Invalid hyperparameters are a
    /// programmer error (validate the config with `Adam.validate` first).
    ///
    /// `allocate` makes the two moment buffers (called twice with `count`); it must return a
    /// tensor of `count` elements, all zero. The default allocates private memory; a
    /// data-parallel reducer may pass node-shared memory instead.
    public init(count: Int, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 0, allocate: (_ count: Int) -> Tensor = { Tensor(zeros: [$0]) }) {
        super.init(label: "Adam", name: "adam", decoupled: false, count: count, beta1: beta1,
                   beta2: beta2, eps: eps, weightDecay: weightDecay, allocate: allocate)
    }
}
