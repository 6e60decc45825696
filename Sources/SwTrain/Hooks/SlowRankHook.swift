import Foundation
import SwTensor

/// Test hook `SWTRAIN_TEST_SLOW_RANK="rank:20ms"`: a loss term of zero that sleeps that long
/// on that rank, inside every micro-batch's forward (the loss is timed as forward), so the
/// straggler attribution can be tested on a rank that is slow in compute. Registered on every
/// rank (hooks must match for checkpoints); only the named rank sleeps.
final class SlowRankHook: LossTermHook {
    let name = "test_slow_rank"
    private let seconds: Double

    init(seconds: Double) { self.seconds = seconds }

    /// Parses `rank:Nms` (or `rank:N` seconds); nil when `rank` is another rank's.
    static func parse(_ spec: String, rank: Int) -> SlowRankHook {
        let parts = spec.split(separator: ":").map(String.init)
        guard parts.count == 2, let r = Int(parts[0]) else {
            preconditionFailure("SWTRAIN_TEST_SLOW_RANK: expected rank:duration like 1:20ms, got \(spec)")
        }
        let d = parts[1].hasSuffix("ms") ? Double(parts[1].dropLast(2)).map { $0 / 1000 } : Double(parts[1])
        guard let d, d >= 0 else { preconditionFailure("SWTRAIN_TEST_SLOW_RANK: bad duration in \(spec)") }
        return SlowRankHook(seconds: r == rank ? d : 0)
    }

    func addLossTerm(input: Tensor, output: Tensor, targets: Tensor, outputGradient: Tensor, gradientScale: Float) -> Double {
        if seconds > 0 { usleep(UInt32(seconds * 1e6)) }
        return 0
    }

    func checkpointState() -> HookState { HookState() }
    func restore(_ state: HookState) throws {}
}
