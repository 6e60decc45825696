import SwTensor

/// A layer computing `y = x Wᵀ (+ b)` with a matrix `W` `[out, in]` that a low-rank pass can
/// split: with a truncated SVD `W ≈ U V`, `U = U_r Σ_r` `[out, r]` and `V = V_rᵀ` `[r, in]`,
/// the layer becomes two, `x → x Vᵀ → (x Vᵀ) Uᵀ + b`, which costs `r (in + out)` multiplies
/// per row instead of `in · out`. The PyTorch module of the replacement is
/// `nn.Sequential(nn.Linear(in, r, bias=False), nn.Linear(r, out))`, so in a model its
/// parameters are named `"<i>.0.weight"` (V), `"<i>.1.weight"` (U) and `"<i>.1.bias"`.
public protocol Factorizable: Layer {
    /// `W` `[out, in]`: a view of the layer's parameters.
    var factorizableMatrix: Tensor { get }
    /// The two-layer replacement from factors `down` = V `[r, in]` and `up` = U `[out, r]`,
    /// keeping this layer's bias on the second layer; bound to its own buffer holding the
    /// factors, so `Model.rewrite` carries them in.
    func factorized(down: Tensor, up: Tensor) -> Sequential
}
