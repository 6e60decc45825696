import SwTensor

/// The two factors of a rank-`r` approximation `W ≈ up · down` of a `[out, in]` weight.
///
/// Plain SVD: `W = U Σ Vᵀ`. Activation-aware (ASVD): with a positive column scale `S = diag(s_j)`
/// (from calibration inputs, see `ActivationStatistics`), `W S = U Σ Vᵀ` and `W ≈ (U Σ Vᵀ) S⁻¹`,
/// so the input directions the data excites most are approximated best.
/// The split is balanced: `up = U_r Σ_r^{1/2}` `[out, r]` and `down = Σ_r^{1/2} V_rᵀ S⁻¹`
/// `[r, in]` (each factor carries the square root of the spectrum, which keeps both on the same
/// scale for fine-tuning). `keptEnergy` is `Σ_{i<r} σ_i² / Σ_i σ_i²` of the (scaled) matrix.
public struct LowRankFactors: Sendable {
    public let rank: Int
    /// `[rank, in]`, row-major.
    public let down: [Float]
    /// `[out, rank]`, row-major.
    public let up: [Float]
    public let keptEnergy: Double
    /// The (scaled) matrix's singular values, descending.
    public let singularValues: [Float]

    /// Factors `weight` (`[out, in]`) by `rule`; `columnScale` (length `in`, positive) makes
    /// it activation-aware.
    public init(weight: Tensor, rule: RankRule, columnScale: [Float]? = nil) throws(CompressError) {
        precondition(weight.shape.count == 2, "LowRankFactors: weight must be [out, in], got \(weight.shape)")
        let (out, inF) = (weight.shape[0], weight.shape[1])
        var a = weight.array
        if let scale = columnScale {
            precondition(scale.count == inF && scale.allSatisfy { $0 > 0 }, "LowRankFactors: columnScale must hold \(inF) positive values")
            for o in 0..<out { for j in 0..<inF { a[o * inF + j] *= scale[j] } }
        }
        let svd = try SVD(a, rows: out, cols: inF)
        let r = rule.rank(for: svd.s)
        let root = svd.s.prefix(r).map { $0.squareRoot() }
        var up = [Float](repeating: 0, count: out * r)
        for o in 0..<out { for i in 0..<r { up[o * r + i] = svd.u[o * svd.k + i] * root[i] } }
        var down = [Float](repeating: 0, count: r * inF)
        for i in 0..<r {
            for j in 0..<inF {
                let v = svd.vt[i * inF + j] * root[i]
                down[i * inF + j] = columnScale.map { v / $0[j] } ?? v
            }
        }
        self.rank = r
        self.up = up
        self.down = down
        self.keptEnergy = RankRule.keptEnergy(svd.s, rank: r)
        self.singularValues = svd.s
    }

    /// Whether `rank · (in + out) < in · out`: the factors hold fewer numbers than the matrix.
    public static func saves(rank: Int, inFeatures: Int, outFeatures: Int) -> Bool {
        rank * (inFeatures + outFeatures) < inFeatures * outFeatures
    }
}
