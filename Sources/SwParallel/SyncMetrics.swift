/// What gradient synchronisation cost, summed since creation or the last `resetMetrics()`.
///
/// `waitSeconds` is the time `finish()` spent blocked on all-reduces that backward did not
/// hide (the `comm_wait` of metrics.jsonl). `bytesReduced` counts the payload handed to
/// all-reduce (4 bytes per gradient element per step); the bytes on the wire are about
/// `2 (p - 1) / p` times that for p ranks with a ring algorithm.
public struct SyncMetrics: Sendable, Equatable {
    /// Steps completed by `finish()`.
    public var steps: Int = 0
    /// Seconds spent waiting inside `finish()`.
    public var waitSeconds: Double = 0
    /// Bytes passed to all-reduce.
    public var bytesReduced: Int = 0
    /// Buckets started.
    public var bucketsStarted: Int = 0

    public init() {}
}
