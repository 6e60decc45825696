/// The element-wise reduction an all-reduce applies across ranks.
///
/// Every rank must pass the same operation to the same collective call; the result is
/// bitwise identical on every rank (MPI reduces in one fixed order per call).
public enum ReduceOp: Sendable, Hashable, CustomStringConvertible {
    /// Element-wise sum: gradients, loss totals, sample counters.
    case sum
    /// Element-wise maximum: per-rank step times, "did any rank see a NaN".
    case max
    /// Element-wise minimum.
    case min

    public var description: String {
        switch self {
        case .sum: return "sum"
        case .max: return "max"
        case .min: return "min"
        }
    }
}
