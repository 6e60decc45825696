import Foundation

/// Optuna's default TPE functions.
enum TPE {
    /// gamma(n) = min(ceil(0.1 n), 25): how many trials form the "below" (good) group.
    static func gamma(_ n: Int) -> Int { min(Int((0.1 * Double(n)).rounded(.up)), 25) }

    /// Observation weights, oldest first: all 1 below 25 observations, else a ramp from 1/n
    /// to 1 over the n - 25 oldest and 1 for the newest 25.
    static func weights(_ n: Int) -> [Double] {
        if n == 0 { return [] }
        if n < 25 { return [Double](repeating: 1, count: n) }
        let m = n - 25
        let ramp = m == 1 ? [1 / Double(n)] : (0..<m).map { 1 / Double(n) + (1 - 1 / Double(n)) * Double($0) / Double(m - 1) }
        return ramp + [Double](repeating: 1, count: 25)
    }
}

/// The tree-structured Parzen estimator (Bergstra et al. 2011), one parameter at a time, with
/// Optuna's defaults: `nStartupTrials` 10 random trials first; then the finished trials are
/// split into the best gamma(n) ("below") and the rest ("above"); per parameter a Parzen
/// estimator l is fitted to the below values and g to the above values, `nEICandidates` 24
/// candidates are drawn from l and the one maximising log l(x) - log g(x) is taken.
///
/// Ranking (Optuna's `_split_trials`): complete trials by value, then pruned trials by their
/// last step (later first) and last reported value; running trials go to "above" when
/// `constantLiar` is on, so parallel workers do not propose the same point twice.
public struct TPESampler: Sampler {
    public var seed: UInt64
    public var nStartupTrials = 10
    public var nEICandidates = 24
    public var priorWeight = 1.0
    public var considerEndpoints = false
    public var magicClip = true
    public var constantLiar = true

    public init(seed: UInt64) { self.seed = seed }

    public func sample(number: Int, trials: [TrialRecord], space: SearchSpace, direction: Direction) -> Suggestion? {
        var rng = TuneRandom(seed: seed, stream: UInt64(number))
        let usable = trials.filter { $0.number != number && $0.values(in: space) != nil }
        let finished = usable.filter { $0.state == .complete || $0.state == .pruned }
        if finished.count < nStartupTrials {
            return Suggestion(values: space.parameters.map { RandomSampler.draw($0.distribution, &rng) })
        }
        let running = constantLiar ? usable.filter { $0.state == .running } : []
        let (below, above) = split(finished, running: running, direction: direction)
        var values: [Double] = []
        for p in space.parameters {
            let b = below.map { $0.params[p.path]! }, a = above.map { $0.params[p.path]! }
            let l = ParzenEstimator(observations: b, distribution: p.distribution, priorWeight: priorWeight,
                                    considerEndpoints: considerEndpoints, magicClip: magicClip)
            let g = ParzenEstimator(observations: a, distribution: p.distribution, priorWeight: priorWeight,
                                    considerEndpoints: considerEndpoints, magicClip: magicClip)
            var best = 0.0, bestScore = -Double.infinity
            for _ in 0..<nEICandidates {
                let x = l.sample(&rng)
                let score = l.logPDF(x) - g.logPDF(x)
                if score > bestScore || bestScore == -Double.infinity { best = x; bestScore = score }
            }
            values.append(best)
        }
        return Suggestion(values: values)
    }

    /// The below and above groups, each in trial-number order (the weights favour newer trials).
    func split(_ finished: [TrialRecord], running: [TrialRecord], direction: Direction) -> ([TrialRecord], [TrialRecord]) {
        let complete = finished.filter { $0.state == .complete && $0.value?.isFinite == true }
            .sorted { (direction.loss($0.value!), $0.number) < (direction.loss($1.value!), $1.number) }
        func prunedKey(_ t: TrialRecord) -> (Int, Double, Int) {
            let s = t.lastStep ?? -1
            let v = s >= 0 ? direction.loss(t.intermediate(at: s) ?? .infinity) : .infinity
            return (-s, v.isNaN ? .infinity : v, t.number)
        }
        let pruned = finished.filter { $0.state == .pruned || ($0.state == .complete && $0.value?.isFinite != true) }
            .sorted { prunedKey($0) < prunedKey($1) }
        let ranked = complete + pruned
        let nBelow = min(TPE.gamma(ranked.count + running.count), ranked.count)
        let below = ranked[..<nBelow].sorted { $0.number < $1.number }
        let above = (ranked[nBelow...] + running).sorted { $0.number < $1.number }
        return (Array(below), Array(above))
    }
}
