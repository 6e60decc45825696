import SwTensor

// Helpers for bit-exact comparisons.

/// The bit patterns of `t`'s elements (so -0 ≠ +0 and NaNs compare by payload).
func bits(_ t: Tensor) -> [UInt32] { t.array.map(\.bitPattern) }

/// The bit patterns of `xs`.
func bits(_ xs: [Float]) -> [UInt32] { xs.map(\.bitPattern) }

/// A tensor of `n` values ~ N(0, 1) from `rng`, with a few exact zeros and negative zeros.
func randomTensor(_ n: Int, _ rng: inout RNG) -> Tensor {
    let t = Tensor(zeros: [n])
    rng.fillNormal(t)
    if n > 3 { t[flat: 1] = 0; t[flat: n - 2] = -0.0 }
    return t
}

/// `xs[0][i] + xs[1][i] + ...` in Float, left to right.
func floatSum(_ xs: [[Float]]) -> [Float] {
    var sum = xs[0]
    for x in xs.dropFirst() { for i in sum.indices { sum[i] = sum[i] + x[i] } }
    return sum
}
