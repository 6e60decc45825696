import Foundation
import SwComm
import SwConfig
import SwParallel
import SwTensor

/// What a run records about itself (`monitor` config, docs/monitor.md), for `TrainingRun`:
/// - at start-up (collective): clock offsets by MPI ping-pong and the placement table;
/// - per step: compute time and arrival at the gradient exchange (stragglers), trace events;
/// - per train line (collective): the `ranks` array (compute, wait, lateness, resources) and
///   the straggler named when one rank is consistently late; TensorBoard scalars;
/// - at the end (collective): every rank's trace events merged into `trace.json` by rank 0.
///
/// Every collective here is called by every rank at the same point of the run.
final class RunMonitor {
    let config: MonitorConfig
    let comm: any Communicator
    let directory: String
    let offsets: ClockOffsets
    let placement: [Placement]
    private let stragglers: StragglerWindow?
    private let trace: TraceRecorder?
    private let tensorboard: TensorBoardWriter?
    /// Test hook `SWTRAIN_TEST_CLOCK_SKEW="rank:seconds"`: that rank's monitor clock runs ahead,
    /// as a host with another clock would (the offsets must absorb it).
    private let skew: Double
    private var stepStart = 0.0

    init(trainer t: Trainer, directory: String, write: (JSONObject) -> Void) throws {
        config = t.config.monitor
        comm = t.comm
        self.directory = directory
        var skew = 0.0
        if let spec = ProcessInfo.processInfo.environment["SWTRAIN_TEST_CLOCK_SKEW"] {
            let p = spec.split(separator: ":")
            if p.count == 2, Int(p[0]) == t.comm.rank, let s = Double(p[1]) { skew = s }
        }
        self.skew = skew
        let isRoot = t.comm.rank == 0
        guard config.enabled else {
            offsets = ClockOffsets(seconds: [Double](repeating: 0, count: t.comm.size), roundTrip: [Double](repeating: 0, count: t.comm.size))
            placement = []
            stragglers = nil
            trace = nil
            tensorboard = nil
            return
        }
        offsets = try ClockOffsets.measure(t.comm, clock: { monotonicSeconds() + skew })
        placement = try Placement.gather(t.comm)
        stragglers = StragglerWindow(window: config.stragglerWindow, ratio: config.stragglerRatio, clock: { monotonicSeconds() + skew })
        trace = config.traceEnabled ? TraceRecorder() : nil
        if isRoot && config.tensorboard {
            tensorboard = try TensorBoardWriter(directory: directory)
        } else {
            tensorboard = nil
        }
        if isRoot {
            print(Placement.table(placement))
            write(JSONObject([("event", .string("placement")), ("ranks", .array(placement.enumerated().map { r, p in
                .object(JSONObject([("rank", .number(Double(r), isInteger: true)), ("host", .string(p.host)),
                                    ("cores", .string(p.cores)), ("core_count", .number(Double(p.coreCount), isInteger: true)),
                                    ("blas_threads", .number(Double(p.blasThreads), isInteger: true)),
                                    ("kernels", .string(p.kernels))]))
            })), ("clock_offsets_us", .array(offsets.seconds.map { .number(($0 * 1e7).rounded() / 10, isInteger: false) }))]))
        }
    }

    /// The monitor's clock: `monotonicSeconds()` (plus the test skew).
    func now() -> Double { monotonicSeconds() + skew }

    func stepBegan() { if trace != nil { stepStart = now() } }

    /// Records the step just finished (`step` is 1-based).
    func stepEnded(step: Int, result r: Trainer.StepResult, sync: any GradientSync) {
        guard let stragglers else { return }
        let end = now()
        defer { stragglers.addOverhead(now() - end) }
        let arrival = r.times.arrival > 0 ? r.times.arrival + skew : end
        stragglers.add(times: r.times, arrival: arrival, commBytes: r.commBytes)
        guard let trace, config.traces(step: step) else { return }
        let t = r.times
        trace.add(.step, start: stepStart, end: end, Int64(step))
        var c = stepStart
        for (kind, d) in [(TraceRecorder.Kind.data, t.data), (.forward, t.forward), (.teacher, t.teacher), (.backward, t.backward)] where d > 0 {
            trace.add(kind, start: min(c, end), end: min(c + d, end))
            c += d
        }
        let a = min(max(arrival, c), end)
        if t.commWait > 0 { trace.add(.gradientWait, start: a, end: min(a + t.commWait, end)) }
        if t.optimizer > 0 { trace.add(.optimizer, start: min(a + t.commWait, end), end: min(a + t.commWait + t.optimizer, end)) }
        if let reducer = (sync as? BucketedAllReduce)?.reducer, comm.size > 1 {
            let n = reducer.bucketStart.count, blocking = reducer.blockingFrom
            for b in 0..<min(blocking, n) {   // started during backward, in flight beside it
                trace.add(.bucket, tid: 1, start: reducer.bucketStart[b] + skew, end: reducer.bucketDone[b] + skew, Int64(b))
            }
            if blocking < n {   // the rest, in one blocking all-reduce after backward
                trace.add(.buckets, tid: 1, start: reducer.bucketStart[blocking] + skew, end: reducer.bucketDone[blocking] + skew,
                          Int64(blocking), Int64(n - 1))
            }
        }
    }

    /// Times `body` as a trace span `name` (eval, checkpoint I/O) when `step` is traced.
    func span<R>(_ kind: TraceRecorder.Kind, step: Int, _ body: () throws -> R) rethrows -> R {
        guard let trace, config.traces(step: step) else { return try body() }
        let t0 = now()
        defer { trace.add(kind, start: t0, end: now()) }
        return try body()
    }

    /// The window's per-rank figures for the train line at `step` (a collective): adds `ranks`
    /// (and `straggler` when one is named) to `line` on rank 0 and prints the straggler line.
    func addWindow(to line: inout JSONObject, step: Int) throws {
        let t0 = now()
        // The gather's time counts in the next window (this one is being sent).
        defer { stragglers?.addOverhead(now() - t0) }
        guard let out = try stragglers?.reduce(comm, offsets: offsets, step: step, clock: now) else { return }
        line["ranks"] = StragglerWindow.json(out.ranks, resources: config.resources)
        if let named = out.straggler {
            line["straggler"] = named.0
            if !named.1.isEmpty { print(named.1) }
        }
    }

    /// TensorBoard scalars (rank 0; nothing when `monitor.tensorboard` is false).
    func scalars(step: Int, _ values: [(String, Double)]) { tensorboard?.write(step: step, values) }

    /// Merges the trace into `trace.json` (a collective; nothing when tracing is off).
    func finish() throws {
        guard let trace else { return }
        let t0 = now()
        try trace.merge(comm, offsets: offsets, path: directory + "/trace.json")
        if comm.rank == 0 {
            print("trace: \(trace.count) events of rank 0 (\(comm.size) rank(s)) merged into \(directory)/trace.json in \(String(format: "%.0f", (now() - t0) * 1000)) ms")
        }
    }
}
