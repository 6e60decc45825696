import Foundation

/// A one-parameter Parzen estimator, the density TPE fits to a group of observations
/// (Optuna's `_ParzenEstimator` with `multivariate` false).
///
/// Numerical parameters: a mixture of truncated normals, one per observation plus a prior
/// kernel at the middle of the range with sigma = high - low. Each observation's sigma is the
/// larger gap to its sorted neighbours (the prior's mean and the range ends taking part),
/// except that with `considerEndpoints` false the outermost kernels use their inner gap;
/// `magicClip` bounds sigma below by (high - low) / min(100, 1 + kernels). Log-scaled ranges
/// work in log space; stepped ranges (integers) widen the range by half a step at each end
/// and give a grid point the mass of its cell. Mixture weights: the observations' weights
/// (`TPE.weights`) then `priorWeight`, normalised.
///
/// Categorical parameters: one kernel per observation with `priorWeight / kernels` on every
/// choice plus 1 on the observed one, rows normalised, and a uniform prior kernel.
struct ParzenEstimator {
    enum Kernels {
        /// Means, sigmas, truncation [low, high] (transformed space), step (nil: continuous).
        case numerical(mus: [Double], sigmas: [Double], low: Double, high: Double, step: Double?, log: Bool, gridLow: Double, gridHigh: Double)
        case categorical(rows: [[Double]])
    }

    let weights: [Double]
    let kernels: Kernels

    init(observations: [Double], distribution: Distribution, priorWeight: Double = 1,
         considerEndpoints: Bool = false, magicClip: Bool = true) {
        let n = observations.count
        var w = TPE.weights(n)
        if n == 0 { w = [1] } else { w.append(priorWeight) }
        let total = w.reduce(0, +)
        weights = w.map { $0 / total }
        switch distribution {
        case .categorical(let choices):
            let k = Double(n + 1)
            var rows: [[Double]] = []
            for o in observations {
                var row = [Double](repeating: priorWeight / k, count: choices.count)
                row[min(max(Int(o), 0), choices.count - 1)] += 1
                let s = row.reduce(0, +)
                rows.append(row.map { $0 / (s == 0 ? 1 : s) })
            }
            rows.append([Double](repeating: 1 / Double(choices.count), count: choices.count))
            kernels = .categorical(rows: rows)
        case .float(let lo, let hi, let isLog):
            kernels = ParzenEstimator.numerical(observations, lo: lo, hi: hi, step: nil, isLog: isLog,
                                                considerEndpoints: considerEndpoints, magicClip: magicClip)
        case .int(let lo, let hi, let step):
            kernels = ParzenEstimator.numerical(observations, lo: Double(lo), hi: Double(hi), step: Double(step), isLog: false,
                                                considerEndpoints: considerEndpoints, magicClip: magicClip)
        }
    }

    static func numerical(_ obs: [Double], lo: Double, hi: Double, step: Double?, isLog: Bool,
                          considerEndpoints: Bool, magicClip: Bool) -> Kernels {
        var low = lo, high = hi
        if let step { low -= step / 2; high += step / 2 }
        var mus = obs
        if isLog { mus = mus.map { log($0) }; low = log(low); high = log(high) }
        let n = mus.count
        // Sigmas from the gaps between sorted means, the prior's mean and the range ends.
        let priorMu = 0.5 * (low + high)
        let withPrior = mus + [priorMu]
        let order = withPrior.indices.sorted { withPrior[$0] < withPrior[$1] }
        let sorted = [low] + order.map { withPrior[$0] } + [high]
        var sortedSigmas: [Double] = []
        for i in 1..<sorted.count - 1 {
            let left: Double = sorted[i] - sorted[i - 1]
            let right: Double = sorted[i + 1] - sorted[i]
            sortedSigmas.append(max(left, right))
        }
        if !considerEndpoints && sorted.count >= 4 {
            sortedSigmas[0] = sorted[2] - sorted[1]
            sortedSigmas[sortedSigmas.count - 1] = sorted[sorted.count - 2] - sorted[sorted.count - 3]
        }
        var sigmas = [Double](repeating: 0, count: n + 1)
        for (rank, idx) in order.enumerated() { sigmas[idx] = sortedSigmas[rank] }
        sigmas = Array(sigmas[0..<n])
        let maxSigma = high - low
        let minSigma = magicClip ? (high - low) / min(100, 1 + Double(n + 1)) : 1e-12
        sigmas = sigmas.map { min(max($0, minSigma), maxSigma) }
        mus.append(priorMu)
        sigmas.append(high - low)
        return .numerical(mus: mus, sigmas: sigmas, low: low, high: high, step: step, log: isLog, gridLow: lo, gridHigh: hi)
    }

    /// Draws one value (internal representation).
    func sample(_ rng: inout TuneRandom) -> Double {
        let k = rng.pick(weights)
        switch kernels {
        case .categorical(let rows):
            return Double(rng.pick(rows[k]))
        case .numerical(let mus, let sigmas, let low, let high, let step, let isLog, let gridLow, let gridHigh):
            var x = TruncatedNormal.sample(mu: mus[k], sigma: sigmas[k], low: low, high: high, &rng)
            if isLog { x = exp(x) }
            if let step {
                x = gridLow + ((x - gridLow) / step).rounded() * step
                return min(max(x, gridLow), gridHigh)
            }
            return min(max(x, gridLow), gridHigh)
        }
    }

    /// The log density (log mass for stepped and categorical parameters) at `x`.
    func logPDF(_ x: Double) -> Double {
        var terms: [Double] = []
        switch kernels {
        case .categorical(let rows):
            let c = Int(x)
            for (k, row) in rows.enumerated() { terms.append(log(weights[k]) + log(max(row[c], 1e-300))) }
        case .numerical(let mus, let sigmas, let low, let high, let step, let isLog, _, _):
            for k in mus.indices {
                let lp: Double
                if let step {
                    lp = TruncatedNormal.logMass(mu: mus[k], sigma: sigmas[k], low: low, high: high, from: x - step / 2, to: x + step / 2)
                } else {
                    lp = TruncatedNormal.logPDF(isLog ? log(x) : x, mu: mus[k], sigma: sigmas[k], low: low, high: high)
                }
                terms.append(log(weights[k]) + lp)
            }
        }
        let m = terms.max() ?? -Double.infinity
        if !m.isFinite { return m }
        return m + log(terms.reduce(0) { $0 + exp($1 - m) })
    }
}

/// The normal distribution truncated to [low, high]: sampling by inverse CDF, densities.
enum TruncatedNormal {
    static func cdf(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }

    /// log(Φ(b) - Φ(a)) for standardised a < b, accurate in either tail.
    static func logDiff(_ a: Double, _ b: Double) -> Double {
        let d = a > 0 ? 0.5 * (erfc(a / 2.0.squareRoot()) - erfc(b / 2.0.squareRoot())) : cdf(b) - cdf(a)
        return log(max(d, 1e-300))
    }

    static func logPDF(_ x: Double, mu: Double, sigma: Double, low: Double, high: Double) -> Double {
        if x < low || x > high { return -1e300 }
        let z = (x - mu) / sigma
        return -0.5 * z * z - log(sigma) - 0.5 * log(2 * Double.pi) - logDiff((low - mu) / sigma, (high - mu) / sigma)
    }

    static func logMass(mu: Double, sigma: Double, low: Double, high: Double, from a: Double, to b: Double) -> Double {
        let lo = max(a, low), hi = min(b, high)
        if hi <= lo { return -1e300 }
        return logDiff((lo - mu) / sigma, (hi - mu) / sigma) - logDiff((low - mu) / sigma, (high - mu) / sigma)
    }

    static func sample(mu: Double, sigma: Double, low: Double, high: Double, _ rng: inout TuneRandom) -> Double {
        var a = (low - mu) / sigma, b = (high - mu) / sigma
        // Sample the lower tail's mirror image when the range lies in the upper tail.
        let flip = a > 0
        if flip { (a, b) = (-b, -a) }
        let pa = cdf(a), pb = cdf(b)
        var z = quantile(pa + (pb - pa) * rng.uniform())
        z = min(max(z, a), b)
        if flip { z = -z }
        return min(max(mu + sigma * z, low), high)
    }

    /// Φ⁻¹(p): Acklam's rational approximation refined by one Halley step.
    static func quantile(_ p: Double) -> Double {
        if p <= 0 { return -38 }
        if p >= 1 { return 38 }
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        var x: Double
        if p < 0.02425 {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p > 1 - 0.02425 {
            let q = (-2 * log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        }
        let e = cdf(x) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        x -= u / (1 + x * u / 2)
        return x
    }
}
