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
    /// The per-layer timing lent to the trainer for traced steps (`monitor.trace.layers`).
    private let layerTrace: LayerTrace?
    /// The top-level layers' event names (rank 0 names every rank's events with them).
    private var layerNames: [String] = []

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
            layerTrace = nil
            return
        }
        offsets = try ClockOffsets.measure(t.comm, clock: { monotonicSeconds() + skew })
        placement = try Placement.gather(t.comm)
        stragglers = StragglerWindow(window: config.stragglerWindow, ratio: config.stragglerRatio, clock: { monotonicSeconds() + skew })
        trace = config.traceEnabled ? TraceRecorder() : nil
        // Pipeline stages run their layers in the stage's schedule: no per-layer events there.
        layerTrace = config.traceEnabled && config.traceLayers && t.pipeline == nil ? LayerTrace() : nil
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

    /// Called before step `step` (1-based) of `trainer` runs.
    func stepBegan(_ trainer: Trainer, step: Int) {
        guard trace != nil else { return }
        if let layerTrace {
            if config.traces(step: step) {
                layerTrace.reset()
                trainer.layerTrace = layerTrace
                layerNames = LayerTrace.names(trainer.model)   // after a rewrite: the new layers
            } else {
                trainer.layerTrace = nil
            }
        }
        stepStart = now()
    }

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
        let layers = layerTrace.flatMap { $0.count > 0 ? $0 : nil }
        if let layers {   // the phases at their real times, then the layers inside them
            let rec = layers.records
            for k in stride(from: 0, to: rec.count, by: 4) {
                let kind: TraceRecorder.Kind
                switch LayerTrace.Kind(rawValue: Int(rec[k]))! {
                case .data: kind = .data
                case .forward: kind = .forward
                case .backward: kind = .backward
                case .layerForward, .layerBackward: continue
                }
                trace.add(kind, start: rec[k + 2] + skew, end: rec[k + 3] + skew)
                c = rec[k + 3] + skew
            }
            for k in stride(from: 0, to: rec.count, by: 4) {
                let kind = LayerTrace.Kind(rawValue: Int(rec[k]))!
                guard kind == .layerForward || kind == .layerBackward else { continue }
                trace.add(kind == .layerForward ? .layerForward : .layerBackward, start: rec[k + 2] + skew, end: rec[k + 3] + skew,
                          Int64(rec[k + 1]))
            }
        } else {
            for (kind, d) in [(TraceRecorder.Kind.data, t.data), (.forward, t.forward), (.teacher, t.teacher), (.backward, t.backward)] where d > 0 {
                trace.add(kind, start: min(c, end), end: min(c + d, end))
                c += d
            }
        }
        // The gradient wait from the arrival; the node-shared modes' wait for the parameter
        // barrier (part of `commWait`) comes after the optimizer, at its own time.
        let events = sync.timeline.events
        var gradientWait = t.commWait
        for e in events where e.kind == .parameterBarrier { gradientWait -= e.end - e.start }
        gradientWait = max(0, gradientWait)
        let a = min(max(arrival, c), end)
        if gradientWait > 0 { trace.add(.gradientWait, start: a, end: min(a + gradientWait, end)) }
        if t.optimizer > 0 { trace.add(.optimizer, start: min(a + gradientWait, end), end: min(a + gradientWait + t.optimizer, end)) }
        for e in events where e.kind == .parameterBarrier && comm.size > 1 {
            trace.add(.parameterWait, start: e.start + skew, end: e.end + skew)
        }
        guard comm.size > 1 else { return }
        for e in events {
            let kind: TraceRecorder.Kind
            switch e.kind {
            case .bucket: kind = .bucket
            case .buckets: kind = .buckets
            case .gradientBarrier: kind = .gradientBarrier
            case .shardSum: kind = .shardSum
            case .crossNode: kind = .crossNode
            case .parameterBarrier: kind = .parameterBarrier
            }
            trace.add(kind, tid: 1, start: e.start + skew, end: e.end + skew, Int64(e.first), Int64(e.last))
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
        try trace.merge(comm, offsets: offsets, layers: layerNames, path: directory + "/trace.json")
        if comm.rank == 0 {
            print("trace: \(trace.count) events of rank 0 (\(comm.size) rank(s)) merged into \(directory)/trace.json in \(String(format: "%.0f", (now() - t0) * 1000)) ms")
        }
    }
}
