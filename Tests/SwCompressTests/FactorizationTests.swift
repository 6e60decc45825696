import Testing
import SwCompress
import SwNN
import SwTensor

/// A random orthogonal `[n, n]` matrix (row-major) by Gram-Schmidt on Gaussian-ish columns.
func randomOrthogonal(_ n: Int, seed: UInt64) -> [Double] {
    var rng = RNG(seed: seed)
    var q = [[Double]]()
    while q.count < n {
        var v = (0..<n).map { _ in Double(rng.uniform(-1, 1)) }
        for u in q { let d = zip(u, v).map(*).reduce(0, +); v = zip(v, u).map { $0 - d * $1 } }
        let norm = v.map { $0 * $0 }.reduce(0, +).squareRoot()
        if norm > 1e-6 { q.append(v.map { $0 / norm }) }
    }
    // q[i] is column i
    var m = [Double](repeating: 0, count: n * n)
    for i in 0..<n { for j in 0..<n { m[j * n + i] = q[i][j] } }
    return m
}

/// W = U diag(s) Vᵀ `[out, in]` with random orthogonal U, V and the given singular values.
func matrix(out: Int, in inF: Int, singularValues s: [Double], seed: UInt64) -> Tensor {
    let u = randomOrthogonal(out, seed: seed), v = randomOrthogonal(inF, seed: seed + 1)
    var w = [Float](repeating: 0, count: out * inF)
    for o in 0..<out {
        for j in 0..<inF {
            var acc = 0.0
            for k in 0..<s.count { acc += u[o * out + k] * s[k] * v[j * inF + k] }
            w[o * inF + j] = Float(acc)
        }
    }
    return Tensor(shape: [out, inF], values: w)
}

@Suite struct FactorizationTests {
    @Test func svdFindsTheKnownSingularValues() throws {
        let s: [Double] = [8, 4, 2, 1, 0.5]
        let w = matrix(out: 7, in: 5, singularValues: s, seed: 11)
        let svd = try SVD(w.array, rows: 7, cols: 5)
        for (a, b) in zip(svd.s, s) { #expect(abs(Double(a) - b) < 1e-4, "\(svd.s)") }
    }

    /// Squares 64, 16, 4, 1, 0.25 of 85.25: 2 values keep 0.938, 3 keep 0.985, 4 keep 0.997.
    @Test(arguments: [(0.5, 1), (0.9, 2), (0.938, 2), (0.95, 3), (0.99, 4), (1.0, 5)])
    func energyRulePicksTheDocumentedRank(energy: Double, expected: Int) throws {
        let w = matrix(out: 6, in: 9, singularValues: [8, 4, 2, 1, 0.5], seed: 3)
        let f = try LowRankFactors(weight: w, rule: .energy(energy))
        #expect(f.rank == expected)
        let kept = [64, 80, 84, 85, 85.25][expected - 1] / 85.25
        #expect(abs(f.keptEnergy - kept) < 1e-4)
    }

    /// Eckart–Young: the rank-r residual's squared norm is the discarded energy.
    @Test func truncationErrorIsTheDiscardedEnergy() throws {
        let w = matrix(out: 8, in: 6, singularValues: [5, 3, 2, 1, 0.5, 0.1], seed: 9)
        let f = try LowRankFactors(weight: w, rule: .fixed(3))
        let approx = product(up: f.up, down: f.down, out: 8, in: 6, rank: 3)
        let residual = zip(w.array, approx).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +)
        #expect(abs(residual - (1 + 0.25 + 0.01)) < 1e-3)
    }

    /// At full rank the factorized layer computes the dense layer's output (plain and
    /// activation-aware, with and without bias).
    @Test(arguments: [(false, true), (true, true), (false, false), (true, false)])
    func fullRankReproducesTheDenseOutput(activationAware: Bool, bias: Bool) throws {
        let dense = Dense(inputShape: [10], units: 7, bias: bias)
        _ = ParameterStore(root: dense)
        var rng = RNG(seed: 21)
        dense.resetParameters(rng: &rng)
        let scale: [Float]? = activationAware ? (0..<10).map { 0.1 + Float($0) } : nil
        let f = try LowRankFactors(weight: dense.factorizableMatrix, rule: .fixed(7), columnScale: scale)
        #expect(f.rank == 7)
        let low = LowRankDense.holding(inputShape: [10], down: Tensor(shape: [7, 10], values: f.down),
                                       up: Tensor(shape: [7, 7], values: f.up), bias: bias ? dense.parameterTensors[1] : nil)
        let x = Tensor(shape: [4, 10], values: (0..<40).map { _ in rng.uniform(-2, 2) })
        let want = dense.forward(x, training: false).array
        let got = low.forward(x, training: false).array
        let err = zip(want, got).map { abs($0 - $1) }.max()!
        #expect(err < 1e-4, "max error \(err)")
    }

    /// ASVD: when a few input features carry most of the activation, scaling by their mean
    /// magnitude gives a smaller output error than plain SVD at the same rank.
    @Test func activationAwareBeatsPlainSVDOnSkewedInputs() throws {
        let (out, inF, rows, rank) = (12, 16, 200, 4)
        var rng = RNG(seed: 7)
        let w = Tensor(shape: [out, inF], values: (0..<out * inF).map { _ in rng.uniform(-1, 1) })
        let featureScale = (0..<inF).map { $0 < 4 ? Float(10) : Float(0.1) }
        var x = [Float](repeating: 0, count: rows * inF)
        for r in 0..<rows { for j in 0..<inF { x[r * inF + j] = rng.uniform(-1, 1) * featureScale[j] } }
        var means = [Double](repeating: 0, count: inF)
        for r in 0..<rows { for j in 0..<inF { means[j] += Double(abs(x[r * inF + j])) / Double(rows) } }
        func outputError(_ f: LowRankFactors) -> Double {
            let a = product(up: f.up, down: f.down, out: out, in: inF, rank: f.rank)
            var num = 0.0, den = 0.0
            for r in 0..<rows {
                for o in 0..<out {
                    var y = 0.0, z = 0.0
                    for j in 0..<inF { y += Double(x[r * inF + j] * w.array[o * inF + j]); z += Double(x[r * inF + j] * a[o * inF + j]) }
                    num += (y - z) * (y - z); den += y * y
                }
            }
            return (num / den).squareRoot()
        }
        let plain = try LowRankFactors(weight: w, rule: .fixed(rank))
        let aware = try LowRankFactors(weight: w, rule: .fixed(rank),
                                       columnScale: LowRankCompression.activationScale(means, alpha: 0.5))
        #expect(outputError(aware) < outputError(plain), "aware \(outputError(aware)) plain \(outputError(plain))")
    }

    @Test func savesOnlyWhenTheFactorsAreSmaller() {
        #expect(LowRankFactors.saves(rank: 64, inFeatures: 1024, outFeatures: 1024))
        #expect(!LowRankFactors.saves(rank: 8, inFeatures: 40, outFeatures: 10))     // 400 >= 400
        #expect(LowRankFactors.saves(rank: 7, inFeatures: 40, outFeatures: 10))
    }
}

/// `up [out, r] · down [r, in]`, row-major.
func product(up: [Float], down: [Float], out: Int, in inF: Int, rank: Int) -> [Float] {
    var m = [Float](repeating: 0, count: out * inF)
    for o in 0..<out { for j in 0..<inF { var s: Float = 0; for k in 0..<rank { s += up[o * rank + k] * down[k * inF + j] }; m[o * inF + j] = s } }
    return m
}
