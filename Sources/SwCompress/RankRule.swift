/// How many singular values a truncated SVD keeps.
///
/// - `fixed(r)`: `min(r, k)` of the `k` values.
/// - `energy(e)`: the smallest `r` whose squared singular values sum to at least `e` of the
///   total, `Σ_{i<r} s_i² ≥ e · Σ_i s_i²` (`0 < e ≤ 1`); the values are sorted descending,
///   so this keeps the directions that carry `e` of the matrix's squared Frobenius norm.
public enum RankRule: Sendable, Equatable {
    case fixed(Int)
    case energy(Double)

    /// The rank this rule picks for singular values `s` (descending); at least 1.
    public func rank(for s: [Float]) -> Int {
        switch self {
        case .fixed(let r): return max(1, min(r, s.count))
        case .energy(let e):
            let squares = s.map { Double($0) * Double($0) }
            let total = squares.reduce(0, +)
            guard total > 0 else { return 1 }
            var acc = 0.0
            for (i, v) in squares.enumerated() {
                acc += v
                if acc >= e * total * (1 - 1e-12) { return i + 1 }
            }
            return s.count
        }
    }

    /// The fraction of `Σ s_i²` the first `r` values keep.
    public static func keptEnergy(_ s: [Float], rank r: Int) -> Double {
        let sq = s.map { Double($0) * Double($0) }
        let total = sq.reduce(0, +)
        return total > 0 ? sq.prefix(r).reduce(0, +) / total : 1
    }

    /// `"rank 64"` or `"energy 0.9"`.
    public var description: String {
        switch self {
        case .fixed(let r): return "rank \(r)"
        case .energy(let e): return "energy \(e)"
        }
    }
}
