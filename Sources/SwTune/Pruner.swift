import Foundation
import SwConfig

/// What a pruner decided at one report, and the system attributes it records on the trial
/// (successive halving writes `completed_rung_<k>` as Optuna does).
public struct PruneDecision: Sendable, Equatable {
    public var prune: Bool
    public var systemAttrs: [(String, JSON)]

    public init(prune: Bool, systemAttrs: [(String, JSON)] = []) {
        self.prune = prune
        self.systemAttrs = systemAttrs
    }

    public static func == (a: PruneDecision, b: PruneDecision) -> Bool {
        a.prune == b.prune && a.systemAttrs.map(\.0) == b.systemAttrs.map(\.0) && a.systemAttrs.map(\.1) == b.systemAttrs.map(\.1)
    }
}

/// The scale of the trial being judged: its eval interval (the default smallest resource)
/// and its total steps (the default largest).
public struct PruneContext: Sendable {
    public var evalEvery: Int
    public var totalSteps: Int
    public var studyName: String

    public init(evalEvery: Int, totalSteps: Int, studyName: String) {
        self.evalEvery = evalEvery
        self.totalSteps = totalSteps
        self.studyName = studyName
    }
}

/// Decides at a trial's eval points whether to stop it. `trial` holds the trial's reports
/// including the one at `step`; `trials` is every other trial of the study.
public protocol Pruner: Sendable {
    func decide(trial: TrialRecord, step: Int, trials: [TrialRecord], direction: Direction, context: PruneContext) -> PruneDecision
}

/// Never prunes.
public struct NoPruner: Pruner {
    public init() {}
    public func decide(trial: TrialRecord, step: Int, trials: [TrialRecord], direction: Direction, context: PruneContext) -> PruneDecision {
        PruneDecision(prune: false)
    }
}

/// Optuna's `MedianPruner`: once `nStartupTrials` (5) trials are complete and past
/// `nWarmupSteps` (0), a trial stops when its best value so far is worse than the median
/// of the complete trials' values at the same step (a NaN value stops it at once).
public struct MedianPruner: Pruner {
    public var nStartupTrials = 5
    public var nWarmupSteps = 0
    public var nMinTrials = 1

    public init(nStartupTrials: Int = 5, nWarmupSteps: Int = 0) {
        self.nStartupTrials = nStartupTrials
        self.nWarmupSteps = nWarmupSteps
    }

    public func decide(trial: TrialRecord, step: Int, trials: [TrialRecord], direction: Direction, context: PruneContext) -> PruneDecision {
        let complete = trials.filter { $0.state == .complete && $0.number != trial.number }
        if complete.count < nStartupTrials || step < nWarmupSteps { return PruneDecision(prune: false) }
        guard let current = trial.intermediate(at: step) else { return PruneDecision(prune: false) }
        if current.isNaN { return PruneDecision(prune: true) }
        let own = trial.intermediate.map(\.value).filter { !$0.isNaN }
        let best = direction == .minimize ? own.min()! : own.max()!
        let others = complete.compactMap { $0.intermediate(at: step) }.filter { !$0.isNaN }.sorted()
        if others.count < nMinTrials { return PruneDecision(prune: false) }
        let m = others.count
        let median = m % 2 == 1 ? others[m / 2] : 0.5 * (others[m / 2 - 1] + others[m / 2])
        return PruneDecision(prune: direction == .maximize ? best < median : best > median)
    }
}

/// Asynchronous successive halving (Li et al. 2018; Optuna's `SuccessiveHalvingPruner`,
/// Ray Tune's ASHA): rung k sits at step `minResource * reductionFactor^(minEarlyStoppingRate + k)`.
/// When a trial's report reaches a rung it records its value there (`completed_rung_<k>`)
/// and goes on only if that value is in the top 1 / reductionFactor of all values recorded at
/// that rung so far (the best one while fewer than reductionFactor are recorded), else stops.
/// `minResource` nil means the trial's eval interval (Ray's grace period of one eval).
public struct SuccessiveHalvingPruner: Pruner {
    public var minResource: Int?
    public var reductionFactor = 4
    public var minEarlyStoppingRate = 0
    /// Restricts the competition to trials of this bracket (Hyperband), nil: all trials.
    var bracket: (@Sendable (TrialRecord) -> Bool)?

    public init(minResource: Int? = nil, reductionFactor: Int = 4, minEarlyStoppingRate: Int = 0) {
        self.minResource = minResource
        self.reductionFactor = reductionFactor
        self.minEarlyStoppingRate = minEarlyStoppingRate
    }

    static func rungKey(_ k: Int) -> String { "completed_rung_\(k)" }

    public func decide(trial: TrialRecord, step: Int, trials: [TrialRecord], direction: Direction, context: PruneContext) -> PruneDecision {
        guard let value = trial.intermediate(at: step) else { return PruneDecision(prune: false) }
        var rung = 0
        while trial.systemAttrs[SuccessiveHalvingPruner.rungKey(rung)] != nil { rung += 1 }
        let r = max(1, minResource ?? context.evalEvery)
        var attrs: [(String, JSON)] = []
        while true {
            let rungStep = r * Int(pow(Double(reductionFactor), Double(minEarlyStoppingRate + rung)))
            if step < rungStep { return PruneDecision(prune: false, systemAttrs: attrs) }
            if value.isNaN { return PruneDecision(prune: true, systemAttrs: attrs) }
            let key = SuccessiveHalvingPruner.rungKey(rung)
            attrs.append((key, .number(value, isInteger: false)))
            var competing = trials.filter { $0.number != trial.number && (bracket?($0) ?? true) }
                .compactMap { t -> Double? in if let v = t.systemAttrs[key]?.doubleValue { return v }; return nil }
            competing.append(value)
            if !SuccessiveHalvingPruner.promotable(value, competing, reductionFactor, direction) {
                return PruneDecision(prune: true, systemAttrs: attrs)
            }
            rung += 1
        }
    }

    /// Whether `value` is among the top len / eta of `competing` (which includes it); with
    /// fewer than eta values, whether it is the best.
    static func promotable(_ value: Double, _ competing: [Double], _ eta: Int, _ direction: Direction) -> Bool {
        var idx = competing.count / eta - 1
        if idx == -1 { idx = 0 }
        let sorted = competing.sorted()
        if direction == .maximize { return value >= sorted[sorted.count - 1 - idx] }
        return value <= sorted[idx]
    }
}

/// Hyperband (Li et al. 2017; Optuna's `HyperbandPruner`): brackets of successive halving
/// with early-stopping rates 0 ..< n, n = floor(log_eta(maxResource / minResource)) + 1.
/// A trial's bracket comes from the CRC-32 of "<study name>_<trial number>" modulo the total
/// budget, bracket i getting ceil(n * eta^(n-1-i) / (n - i)) of it, and a trial competes only
/// with the trials of its bracket. `minResource` nil: the eval interval; `maxResource` nil:
/// the trial's total steps.
public struct HyperbandPruner: Pruner {
    public var minResource: Int?
    public var maxResource: Int?
    public var reductionFactor = 3

    public init(minResource: Int? = nil, maxResource: Int? = nil, reductionFactor: Int = 3) {
        self.minResource = minResource
        self.maxResource = maxResource
        self.reductionFactor = reductionFactor
    }

    func brackets(_ context: PruneContext) -> Int {
        let lo = Double(max(1, minResource ?? context.evalEvery)), hi = Double(max(1, maxResource ?? context.totalSteps))
        return max(1, Int((log(hi / lo) / log(Double(reductionFactor)) + 1e-9).rounded(.down)) + 1)
    }

    func budget(_ i: Int, _ n: Int) -> Int {
        let s = n - 1 - i
        return Int((Double(n) * pow(Double(reductionFactor), Double(s)) / Double(s + 1)).rounded(.up))
    }

    /// The bracket of trial `number`.
    public func bracket(of number: Int, _ context: PruneContext) -> Int {
        let n = brackets(context)
        let total = (0..<n).reduce(0) { $0 + budget($1, n) }
        var h = Int(crc32(Array("\(context.studyName)_\(number)".utf8))) % total
        for i in 0..<n {
            h -= budget(i, n)
            if h < 0 { return i }
        }
        return n - 1
    }

    public func decide(trial: TrialRecord, step: Int, trials: [TrialRecord], direction: Direction, context: PruneContext) -> PruneDecision {
        let b = bracket(of: trial.number, context)
        var sh = SuccessiveHalvingPruner(minResource: max(1, minResource ?? context.evalEvery), reductionFactor: reductionFactor,
                                         minEarlyStoppingRate: b)
        sh.bracket = { self.bracket(of: $0.number, context) == b }
        return sh.decide(trial: trial, step: step, trials: trials, direction: direction, context: context)
    }
}

/// CRC-32 (IEEE 802.3, the polynomial of zlib and Python's `binascii.crc32`).
func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = (c >> 1) ^ (0xEDB8_8320 & (0 &- (c & 1))) }
    }
    return ~c
}
