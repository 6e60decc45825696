import SwTensor

/// Where a step's time went, in seconds: data loading, forward (with the loss), backward,
/// waiting for gradient communication, and the optimizer (with regularization and clipping).
public struct StepTimes: Sendable {
    public var data = 0.0, forward = 0.0, backward = 0.0, commWait = 0.0, optimizer = 0.0
    public var total: Double { data + forward + backward + commWait + optimizer }

    public static func += (a: inout StepTimes, b: StepTimes) {
        a.data += b.data; a.forward += b.forward; a.backward += b.backward
        a.commWait += b.commWait; a.optimizer += b.optimizer
    }

    /// Per-step milliseconds over `steps` steps, as metrics.jsonl's `time_ms` object.
    func millisecondsJSON(steps: Int) -> [(String, Double)] {
        let k = 1000 / Double(max(steps, 1))
        return [("data", data * k), ("forward", forward * k), ("backward", backward * k),
                ("comm_wait", commWait * k), ("optimizer", optimizer * k)]
    }
}
