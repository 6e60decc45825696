import Foundation
import SwConfig

/// A sampler's proposal for one trial: a value per parameter (internal representation, in
/// the order of the search space) and system attributes to store with the trial.
public struct Suggestion: Sendable, Equatable {
    public var values: [Double]
    public var systemAttrs: [String: JSON]

    public init(values: [Double], systemAttrs: [String: JSON] = [:]) {
        self.values = values
        self.systemAttrs = systemAttrs
    }
}

/// Proposes the parameters of the next trial from the study's history.
///
/// A sampler keeps no state of its own between calls: everything it needs is the seed, the
/// trial number and `trials` (every trial so far, finished or running), so a study rebuilt
/// from its journal continues with the very sampler it had.
public protocol Sampler: Sendable {
    /// The values for trial `number`, or nil when the sampler has nothing left (a grid whose
    /// every point is visited or running).
    func sample(number: Int, trials: [TrialRecord], space: SearchSpace, direction: Direction) -> Suggestion?
}

/// Independent uniform sampling: log-uniform in log space, integers uniform on their grid,
/// choices uniform.
public struct RandomSampler: Sampler {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    public func sample(number: Int, trials: [TrialRecord], space: SearchSpace, direction: Direction) -> Suggestion? {
        var rng = TuneRandom(seed: seed, stream: UInt64(number))
        return Suggestion(values: space.parameters.map { RandomSampler.draw($0.distribution, &rng) })
    }

    static func draw(_ d: Distribution, _ rng: inout TuneRandom) -> Double {
        switch d {
        case .float(let lo, let hi, let isLog):
            if isLog { return min(hi, max(lo, exp(rng.uniform(log(lo), log(hi))))) }
            return rng.uniform(lo, hi)
        case .int(let lo, let hi, let step):
            return Double(lo + step * rng.int((hi - lo) / step + 1))
        case .categorical(let c):
            return Double(rng.int(c.count))
        }
    }
}

/// Every point of the product of the parameters' values exactly once, in a seeded random
/// order (Optuna's `GridSampler` visits its grid in random order too). The point's index is
/// stored as the trial's `grid_id` system attribute. A point is taken once a trial for it is
/// running or finished, except a trial interrupted by a kill, whose point is free again.
public struct GridSampler: Sampler {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// The number of grid points, or nil when some parameter is continuous.
    public static func size(_ space: SearchSpace) -> Int? {
        var n = 1
        for p in space.parameters {
            guard let v = p.distribution.gridValues else { return nil }
            let (m, overflow) = n.multipliedReportingOverflow(by: v.count)
            if overflow { return Int.max }
            n = m
        }
        return n
    }

    /// The values of grid point `id` (the first parameter varies slowest).
    public static func point(_ id: Int, _ space: SearchSpace) -> [Double] {
        var rest = id
        var out = [Double](repeating: 0, count: space.parameters.count)
        for (i, p) in space.parameters.enumerated().reversed() {
            let v = p.distribution.gridValues!
            out[i] = v[rest % v.count]
            rest /= v.count
        }
        return out
    }

    public func sample(number: Int, trials: [TrialRecord], space: SearchSpace, direction: Direction) -> Suggestion? {
        guard let n = GridSampler.size(space) else { return nil }
        var taken = Set<Int>()
        for t in trials where !t.interrupted {
            if let g = t.gridID { taken.insert(g) }
        }
        let free = (0..<n).filter { !taken.contains($0) }
        guard !free.isEmpty else { return nil }
        var rng = TuneRandom(seed: seed, stream: UInt64(number))
        let id = free[rng.int(free.count)]
        return Suggestion(values: GridSampler.point(id, space), systemAttrs: ["grid_id": .number(Double(id), isInteger: true)])
    }
}

