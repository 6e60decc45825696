import SwComm
import SwTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Data-parallel gradient synchronisation: bucketed, asynchronous all-reduce overlapped with
/// backward (PyTorch DDP's reducer, on a flat buffer).
///
/// One step:
/// ```
/// for layer in layers.reversed() {
///     layer.backward(...)                        // writes grads at offsets >= layer's offset
///     try sync.markReady(upTo: layerOffset)      // starts every bucket now complete
///     try sync.poll()                            // lets MPI progress the in-flight ones
/// }
/// try sync.finish()                              // reduces the rest, waits, averages
/// optimizer.step(...)
/// ```
/// Buckets follow `GradientBuckets` (from the end of the buffer backwards) and are started in
/// bucket order on every rank, so every rank issues the same collectives in the same order.
/// After `finish()` every rank holds the sum (or, with `average`, the mean) of all ranks'
/// gradients. The next `markReady` begins the next step.
///
/// Averaging: with `average: true`, `finish()` scales by `1 / communicator.size`. A trainer
/// that already scaled the loss gradient by `1 / global batch` wants the plain sum:
/// `average: false`.
///
/// Requests are allocated once here, so a step allocates nothing. With a communicator of size
/// 1 (`LocalCommunicator`) every call returns at once and the gradients are left as they are.
/// Do not touch a bucket's gradients between its start and `finish()`.
public final class DataParallelSync {
    /// The flat gradient buffer being synchronised.
    public let gradients: Tensor
    /// The data-parallel group (all ranks holding a replica of these parameters).
    public let communicator: any Communicator
    /// The bucket layout, the same on every rank.
    public let layout: GradientBuckets
    /// Scale the sum by `1 / communicator.size` in `finish()`.
    public let average: Bool
    /// Accumulated cost; see `SyncMetrics`.
    public private(set) var metrics = SyncMetrics()
    /// Seconds `finish()` waited in the last step.
    public private(set) var lastWaitSeconds: Double = 0

    /// When each bucket of the last step started and was seen complete (`now()` seconds, the
    /// clock of `monotonicSeconds()`); buckets from `blockingFrom` on went out together in
    /// `finish()`'s one blocking all-reduce. For the run's trace; written every step, no allocation.
    public private(set) var bucketStart: [Double]
    public private(set) var bucketDone: [Double]
    public private(set) var blockingFrom = 0

    private let requests: [CommRequest]
    /// Buckets `0..<started` have been started this step.
    private var started = 0
    /// Buckets `0..<completed` are known complete this step (a prefix: we test in order).
    private var completed = 0
    private let isAlone: Bool

    /// Synchronises `gradients` over `communicator` in buckets of `bucketMB` MiB (bucket 0
    /// capped at `firstBucketMB`, see `GradientBuckets`).
    public init(gradients: Tensor, communicator: any Communicator,
                bucketMB: Double = 25, firstBucketMB: Double = 1, average: Bool = true) {
        self.gradients = gradients
        self.communicator = communicator
        self.layout = GradientBuckets(count: gradients.count, bucketMB: bucketMB, firstBucketMB: firstBucketMB)
        self.average = average
        self.isAlone = communicator.size == 1
        let buckets = layout.ranges.count
        self.requests = (0..<buckets).map { i in
            let r = CommRequest()
            r.describe("gradient bucket", index: i, of: buckets)   // named in watchdog reports
            return r
        }
        bucketStart = [Double](repeating: 0, count: layout.ranges.count)
        bucketDone = [Double](repeating: 0, count: layout.ranges.count)
    }

    /// True between the first bucket start of a step and the end of `finish()`.
    public var inFlight: Bool { started > completed }

    /// Declares the gradients at flat offsets `>= offset` final for this step and starts, in
    /// bucket order, every bucket lying entirely at or above `offset` that has not started.
    public func markReady(upTo offset: Int) throws {
        if isAlone { return }
        let ranges = layout.ranges
        while started < ranges.count && ranges[started].lowerBound >= offset {
            let range = ranges[started]
            let slice = UnsafeMutableBufferPointer(start: gradients.pointer + range.lowerBound,
                                                   count: range.count)
            bucketStart[started] = Self.now()
            try communicator.startAllReduce(slice, op: .sum, into: requests[started])
            metrics.bucketsStarted += 1
            metrics.bytesReduced += range.count * MemoryLayout<Float>.stride
            started += 1
        }
    }

    /// Tests the in-flight buckets (MPI progresses non-blocking collectives only inside MPI
    /// calls). Call between layers' backward; cheap when nothing is in flight.
    public func poll() throws {
        while completed < started {
            if try !requests[completed].test() { return }
            bucketDone[completed] = Self.now()
            finishBucket(completed)
            completed += 1
        }
    }

    /// Reduces the buckets not yet started, waits for all, averages if asked, and ends the step.
    /// The wait is recorded in `lastWaitSeconds` and `metrics.waitSeconds`.
    ///
    /// Buckets still unstarted here have nothing left to overlap with, so they go out as ONE
    /// blocking all-reduce over their contiguous span (offset 0 to the end of the first
    /// unstarted bucket): Open MPI's blocking algorithms beat its non-blocking ones (libnbc) by
    /// ~1.5x on 4 KB-1 MB messages, and one call beats several. Every rank makes the same `markReady` calls, so every rank issues
    /// the same sequence of collectives.
    public func finish() throws {
        metrics.steps += 1
        lastWaitSeconds = 0
        if isAlone { return }
        let ranges = layout.ranges
        let t0 = Self.now()
        blockingFrom = started
        if started < ranges.count {
            let span = UnsafeMutableBufferPointer(start: gradients.pointer, count: ranges[started].upperBound)
            bucketStart[started] = t0
            CommWatchdog.shared.setPhase("gradient buckets", started, ranges.count - 1)
            try communicator.allReduce(span, op: .sum)
            CommWatchdog.shared.clearPhase()
            bucketDone[started] = Self.now()
            metrics.bucketsStarted += ranges.count - started
            metrics.bytesReduced += span.count * MemoryLayout<Float>.stride
            if average { scale(0..<span.count) }
        }
        while completed < started {
            try requests[completed].wait()
            bucketDone[completed] = Self.now()
            finishBucket(completed)
            completed += 1
        }
        lastWaitSeconds = Self.now() - t0
        metrics.waitSeconds += lastWaitSeconds
        started = 0
        completed = 0
    }

    /// Zeroes the accumulated metrics.
    public func resetMetrics() {
        metrics = SyncMetrics()
    }

    /// Post-processing of a bucket whose all-reduce completed: averaging.
    private func finishBucket(_ index: Int) {
        if average { scale(layout.ranges[index]) }
    }

    /// Multiplies `range` of the gradients by `1 / communicator.size`.
    private func scale(_ range: Range<Int>) {
        let factor = 1 / Float(communicator.size)
        let p = gradients.pointer
        for i in range { p[i] *= factor }
    }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
