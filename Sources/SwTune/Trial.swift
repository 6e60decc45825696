import SwConfig

/// A trial's state, with Optuna's `TrialState` numbers (what the journal stores).
public enum TrialState: Int, Sendable {
    case running = 0, complete = 1, pruned = 2, fail = 3, waiting = 4

    public var isFinished: Bool { self == .complete || self == .pruned || self == .fail }
    public var name: String {
        switch self {
        case .running: return "RUNNING"
        case .complete: return "COMPLETE"
        case .pruned: return "PRUNED"
        case .fail: return "FAIL"
        case .waiting: return "WAITING"
        }
    }
}

/// One trial as the study knows it (rebuilt from the journal on resume).
public struct TrialRecord: Sendable {
    /// The trial's number in the study, from 0 (Optuna's `trial.number`).
    public var number: Int
    public var state: TrialState = .running
    /// Parameter values in internal representation, keyed by parameter path.
    public var params: [String: Double] = [:]
    /// The objective value of a finished trial (a pruned trial keeps its last reported value).
    public var value: Double?
    /// Reported (step, value) pairs in report order.
    public var intermediate: [(step: Int, value: Double)] = []
    public var systemAttrs: [String: JSON] = [:]
    public var userAttrs: [String: JSON] = [:]
    public var datetimeStart: String?
    public var datetimeComplete: String?

    public init(number: Int) { self.number = number }

    /// The grid point this trial visits (grid sampler).
    public var gridID: Int? {
        if let d = systemAttrs["grid_id"]?.doubleValue { return Int(d) }
        return nil
    }

    /// Failed because the study was killed while it ran (re-run on resume).
    public var interrupted: Bool { systemAttrs[TrialRecord.interruptedKey] == .bool(true) }
    static let interruptedKey = "swtrain_interrupted"

    /// The intermediate value at `step`, the last one reported for it.
    public func intermediate(at step: Int) -> Double? { intermediate.last { $0.step == step }?.value }
    public var lastStep: Int? { intermediate.map(\.step).max() }

    /// Finished and counted against the study's `trials` (an interrupted trial is re-run).
    public var countsAsDone: Bool { state.isFinished && !interrupted }

    /// The values of every parameter of `space`, or nil when some are missing.
    public func values(in space: SearchSpace) -> [Double]? {
        var out: [Double] = []
        for p in space.parameters {
            guard let v = params[p.path] else { return nil }
            out.append(v)
        }
        return out
    }
}

/// Optimisation direction, with Optuna's `StudyDirection` numbers.
public enum Direction: Int, Sendable {
    case minimize = 1, maximize = 2

    /// The value turned into a loss to minimise.
    public func loss(_ v: Double) -> Double { self == .minimize ? v : -v }
    public func better(_ a: Double, than b: Double) -> Bool { self == .minimize ? a < b : a > b }
}
