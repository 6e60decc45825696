import Foundation
import SwComm
import SwConfig

/// Chrome trace events ("X" complete events, µs) of this rank, merged by rank 0 into the run
/// folder's `trace.json` at the end of the run (pid = rank, tid = thread: 0 the training
/// thread's phases (and, with `monitor.trace.layers`, each top-level layer's forward and
/// backward inside them), 1 the gradient exchange from start to completion: each bucket's
/// all-reduce, which overlaps backward, or the node-shared modes' barriers).
///
/// Recording appends six integers per event to one flat array (kind, tid, start µs, duration
/// µs, two arguments: the step, or a bucket range), so a traced step costs a few stores; the
/// names are made only when rank 0 writes the file. Times are the monitor's clock on each rank;
/// the merge subtracts each rank's start-up clock offset (`ClockOffsets`) so every event is on
/// rank 0's clock, and the earliest event of the file is time 0. The file's `otherData` states
/// the offsets and their round trips.
final class TraceRecorder {
    /// What an event is: its name and category in the file.
    enum Kind: Int64, CaseIterable {
        case step, data, forward, teacher, backward, gradientWait, optimizer, bucket, buckets, eval, checkpoint
        case layerForward, layerBackward, gradientBarrier, shardSum, crossNode, parameterBarrier, parameterWait

        var category: String {
            switch self {
            case .step: return "step"
            case .data, .forward, .teacher, .backward, .optimizer: return "compute"
            case .gradientWait, .parameterWait: return "wait"
            case .bucket, .buckets, .gradientBarrier, .shardSum, .crossNode, .parameterBarrier: return "comm"
            case .eval: return "eval"
            case .checkpoint: return "checkpoint"
            case .layerForward: return "layer.forward"
            case .layerBackward: return "layer.backward"
            }
        }

        /// The event's name; `a` is the step, the first bucket or the layer index (`layers`
        /// names them), `b` the last bucket.
        func name(_ a: Int64, _ b: Int64, layers: [String]) -> String {
            func layer() -> String { layers.indices.contains(Int(a)) ? layers[Int(a)] : "layer \(a)" }
            switch self {
            case .step: return "step \(a)"
            case .data: return "data"
            case .forward: return "forward"
            case .teacher: return "teacher"
            case .backward: return "backward"
            case .gradientWait: return "gradient wait"
            case .optimizer: return "optimizer"
            case .bucket: return "all-reduce bucket \(a)"
            case .buckets: return "all-reduce buckets \(a)-\(b)"
            case .eval: return "eval"
            case .checkpoint: return "checkpoint"
            case .layerForward: return "forward " + layer()
            case .layerBackward: return "backward " + layer()
            case .gradientBarrier: return "gradient barrier"
            case .shardSum: return "shard sum"
            case .crossNode: return "all-reduce shard across nodes"
            case .parameterBarrier: return "parameter barrier"
            case .parameterWait: return "parameter wait"
            }
        }
    }

    static let width = 6
    private(set) var data: [Int64] = []

    init() { data.reserveCapacity(1 << 16) }

    var count: Int { data.count / Self.width }

    func add(_ kind: Kind, tid: Int64 = 0, start: Double, end: Double, _ a: Int64 = 0, _ b: Int64 = 0) {
        let s = Int64((start * 1e6).rounded())
        data.append(kind.rawValue); data.append(tid); data.append(s)
        data.append(max(0, Int64((end * 1e6).rounded()) - s)); data.append(a); data.append(b)
    }

    /// Gathers every rank's events (a collective) and, on rank 0, writes `path`; `layers` names
    /// the top-level layers (`LayerTrace.names`, the same model on every rank).
    func merge(_ comm: any Communicator, offsets: ClockOffsets, layers: [String], path: String) throws {
        var all: [[Int64]] = [data]
        if comm.size > 1 {
            let counts = try comm.allGather(Int64(data.count))
            let longest = Int(counts.max() ?? 0)
            let mine = data + [Int64](repeating: 0, count: longest - data.count)
            var gathered = [Int64](repeating: 0, count: longest * comm.size)
            try mine.withUnsafeBufferPointer { p in try gathered.withUnsafeMutableBufferPointer { try comm.allGather(p, into: $0) } }
            all = (0..<comm.size).map { Array(gathered[$0 * longest ..< $0 * longest + Int(counts[$0])]) }
        }
        guard comm.rank == 0 else { return }
        // (aligned start, rank, index): sorted by time, a step before its first phase (added first).
        var order: [(ts: Int64, rank: Int, i: Int)] = []
        for (rank, d) in all.enumerated() {
            let shift = Int64((offsets.seconds[rank] * 1e6).rounded())
            for i in stride(from: 0, to: d.count, by: Self.width) { order.append((d[i + 2] - shift, rank, i)) }
        }
        order.sort { ($0.ts, $0.rank, $0.i) < ($1.ts, $1.rank, $1.i) }
        let origin = order.first?.ts ?? 0
        var out = "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"clock\":\"CLOCK_MONOTONIC of each rank, aligned to rank 0 by MPI ping-pong at start-up; ts 0 is the earliest event\","
        out += "\"clock_offsets_us\":[" + offsets.seconds.map { String(format: "%.1f", $0 * 1e6) }.joined(separator: ",") + "],"
        out += "\"round_trip_us\":[" + offsets.roundTrip.map { String(format: "%.1f", $0 * 1e6) }.joined(separator: ",") + "],"
        out += "\"origin_us_on_rank0_clock\":\(origin),\"ranks\":\(all.count)},\n\"traceEvents\":[\n"
        out.reserveCapacity(out.utf8.count + order.count * 110)
        for rank in all.indices {
            out += #"{"name":"process_name","ph":"M","pid":\#(rank),"tid":0,"args":{"name":"rank \#(rank)"}},"# + "\n"
            out += #"{"name":"process_sort_index","ph":"M","pid":\#(rank),"tid":0,"args":{"sort_index":\#(rank)}},"# + "\n"
            out += #"{"name":"thread_name","ph":"M","pid":\#(rank),"tid":0,"args":{"name":"training"}},"# + "\n"
            out += #"{"name":"thread_name","ph":"M","pid":\#(rank),"tid":1,"args":{"name":"gradient exchange"}}"#
            out += rank == all.count - 1 && order.isEmpty ? "\n" : ",\n"
        }
        for (n, e) in order.enumerated() {
            let d = all[e.rank], i = e.i
            let kind = Kind(rawValue: d[i]) ?? .step
            out += "{\"name\":\(JSON.quote(kind.name(d[i + 4], d[i + 5], layers: layers))),\"cat\":\"\(kind.category)\",\"ph\":\"X\",\"pid\":\(e.rank),\"tid\":\(d[i + 1]),\"ts\":\(e.ts - origin),\"dur\":\(d[i + 3])"
            if kind == .step { out += ",\"args\":{\"step\":\(d[i + 4])}" }
            if kind == .layerForward || kind == .layerBackward { out += ",\"args\":{\"layer\":\(d[i + 4])}" }
            out += n == order.count - 1 ? "}\n" : "},\n"
        }
        out += "]}\n"
        do {
            try writeFileAtomically(Array(out.utf8), to: path)
        } catch {
            throw RuntimeError("\(path): cannot write the trace: \(error)\n  hint: check the free space and permissions of the run folder")
        }
    }
}
