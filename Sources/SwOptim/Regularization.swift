import SwTensor

/// L1 and L2 penalties on the parameters, applied by adding their gradients to the gradient
/// buffer before clipping and the optimizer step.
///
/// Penalty added to the loss (reported by `apply`, not added to the loss by the trainer):
/// ```
/// R(w) = l1 · Σ|wᵢ| + (l2 / 2) · Σ wᵢ²
/// ```
/// and its gradient, added in place: `gᵢ ← gᵢ + l1 · sign(wᵢ) + l2 · wᵢ` with `sign(0) = 0`
/// (the subgradient torch's `abs` backward gives). Every element of the buffer is
/// regularized, biases included, as with a single torch parameter group.
///
/// Note that `l2` here equals torch's SGD `weight_decay` (both add `l2 · w`), but with Adam
/// the two differ from AdamW's decoupled decay.
public struct Regularization: Sendable, Equatable {
    /// Coefficient of `Σ|w|`.
    public var l1: Float
    /// Coefficient of `½ Σ w²`.
    public var l2: Float

    public init(l1: Float = 0, l2: Float = 0) {
        self.l1 = l1
        self.l2 = l2
    }

    /// True when both coefficients are zero (`apply` is then a no-op returning 0).
    public var isZero: Bool { l1 == 0 && l2 == 0 }

    /// An error message for invalid coefficients, or `nil`.
    public static func validate(l1: Float, l2: Float) -> String? {
        if !(l1 >= 0 && l1.isFinite) { return "l1 must be finite and >= 0, got \(l1)" }
        if !(l2 >= 0 && l2.isFinite) { return "l2 must be finite and >= 0, got \(l2)" }
        return nil
    }

    /// The penalty `R(w)` (in Double) without touching any gradient.
    public func penalty(parameters: Tensor) -> Double {
        if isZero { return 0 }
        return pass(parameters, gradients: nil)
    }

    /// Adds `l1 · sign(w) + l2 · w` to `gradients` (same layout as `parameters`) and returns
    /// the penalty `R(w)` for logging, both in one pass.
    @discardableResult
    public func apply(parameters: Tensor, gradients: Tensor) -> Double {
        precondition(parameters.count == gradients.count,
                     "Regularization: parameters \(parameters.count), gradients \(gradients.count)")
        if isZero { return 0 }
        return pass(parameters, gradients: gradients)
    }

    /// One pass: `R(w)` accumulated in Double; the gradient terms added when `gradients` is set.
    private func pass(_ parameters: Tensor, gradients: Tensor?) -> Double {
        let p = parameters.pointer, n = parameters.count
        let c1 = l1, c2 = l2
        let zero = Vec(), one = Vec(repeating: 1)
        var abs1 = SIMD16<Double>(), sq = SIMD16<Double>()
        var i = 0
        while i < n {
            let w = load(p, i, n)                      // lanes past n are 0 and add nothing
            let sign = zero.replacing(with: one, where: w .> 0).replacing(with: -one, where: w .< 0)
            if let g = gradients?.pointer { store(sign * c1 + w * c2 + load(g, i, n), g, i, n) }
            let d = SIMD16<Double>(w)
            abs1 += SIMD16<Double>(sign * w)            // |w| exactly
            sq = d * d + sq
            i += Vec.scalarCount
        }
        return Double(c1) * abs1.sum() + Double(c2) / 2 * sq.sum()
    }
}
