import SwTensor

/// Where a step's time went, in seconds: data loading, forward (with the loss), backward,
/// waiting for gradient communication, the optimizer (with regularization and clipping), and
/// the distillation teacher's forward (0 without `distill`; not part of `forward`).
public struct StepTimes: Sendable {
    public var data = 0.0, forward = 0.0, backward = 0.0, commWait = 0.0, optimizer = 0.0, teacher = 0.0
    /// When this rank reached the step's gradient exchange (`monotonicSeconds()`; a time, not a
    /// duration: not part of `total` nor of `+=`). What straggler attribution compares.
    public var arrival = 0.0
    public var total: Double { data + forward + backward + commWait + optimizer + teacher }

    public static func += (a: inout StepTimes, b: StepTimes) {
        a.data += b.data; a.forward += b.forward; a.backward += b.backward
        a.commWait += b.commWait; a.optimizer += b.optimizer; a.teacher += b.teacher
    }

    /// Per-step milliseconds over `steps` steps, as metrics.jsonl's `time_ms` object.
    func millisecondsJSON(steps: Int) -> [(String, Double)] {
        let k = 1000 / Double(max(steps, 1))
        return [("data", data * k), ("forward", forward * k), ("backward", backward * k),
                ("comm_wait", commWait * k), ("optimizer", optimizer * k)]
            + (teacher > 0 ? [("teacher", teacher * k)] : [])
    }
}
