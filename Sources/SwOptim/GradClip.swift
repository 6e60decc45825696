import SwTensor

/// Gradient clipping by global 2-norm, as `torch.nn.utils.clip_grad_norm_` (norm_type 2).
///
/// ```
/// ‖g‖ = √(Σ gᵢ²)                   (accumulated in Double)
/// c   = maxNorm / (‖g‖ + 1e-6)
/// g  ← c · g                       only when c < 1
/// ```
/// The two halves are separate so a distributed caller can all-reduce the squared norm in
/// between (pipeline stages each own a slice of the gradients):
/// ```
/// let local = GradClip.squaredNorm(grads)
/// let norm = allReduceSum(local).squareRoot()
/// if let c = GradClip.coefficient(norm: norm, maxNorm: maxNorm) { GradClip.scale(grads, by: c) }
/// ```
/// A non-finite norm leaves the gradients unchanged (the comparison `c < 1` is false for NaN);
/// the caller sees it in the returned norm.
public enum GradClip {
    /// `Σ gᵢ²` accumulated in Double.
    public static func squaredNorm(_ t: Tensor) -> Double {
        let p = t.pointer, n = t.count
        var acc = SIMD8<Double>()
        var i = 0
        while i + 8 <= n {
            let f = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
            let d = SIMD8<Double>(f)
            acc = d * d + acc
            i += 8
        }
        var sum = acc.sum()
        while i < n {
            let d = Double(p[i])
            sum += d * d
            i += 1
        }
        return sum
    }

    /// The factor `maxNorm / (norm + 1e-6)` when it is below 1, else `nil` (no clipping).
    public static func coefficient(norm: Double, maxNorm: Float) -> Float? {
        let c = Double(maxNorm) / (norm + 1e-6)
        return c < 1 ? Float(c) : nil
    }

    /// Multiplies every element by `factor`.
    public static func scale(_ t: Tensor, by factor: Float) {
        let p = t.pointer, n = t.count
        var i = 0
        while i < n {
            store(load(p, i, n) * factor, p, i, n)
            i += Vec.scalarCount
        }
    }
}

/// Clips `gradients` in place to global 2-norm `maxNorm` and returns the total norm before
/// clipping, like `torch.nn.utils.clip_grad_norm_`. `extraSquaredNorm` is the squared norm of
/// gradients held elsewhere (other buffers or ranks) that count toward the total; only
/// `gradients` is scaled, so the caller scales the others by the same factor.
@discardableResult
public func clipGradNorm(gradients: Tensor, maxNorm: Float, extraSquaredNorm: Double = 0) -> Double {
    let norm = (GradClip.squaredNorm(gradients) + extraSquaredNorm).squareRoot()
    if let c = GradClip.coefficient(norm: norm, maxNorm: maxNorm) { GradClip.scale(gradients, by: c) }
    return norm
}
