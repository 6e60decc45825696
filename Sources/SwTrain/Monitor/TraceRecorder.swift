import Foundation
import SwComm
import SwConfig

/// Chrome trace events ("X" complete events, µs) of this rank, merged by rank 0 into the run
/// folder's `trace.json` at the end of the run (pid = rank, tid = thread: 0 the training
/// thread's phases, 1 the gradient all-reduces from start to completion, which overlap backward).
///
/// Times are the monitor's clock on each rank; the merge subtracts each rank's start-up clock
/// offset (`ClockOffsets`) so every event is on rank 0's clock, then the earliest event of the
/// file is time 0. The file's `otherData` states the offsets and their round trips.
final class TraceRecorder {
    struct Event {
        var name: String
        var category: String
        var tid: Int
        var start: Double
        var end: Double
        var args: [(String, Double)] = []
    }

    private(set) var events: [Event] = []

    init() { events.reserveCapacity(4096) }

    func add(_ name: String, _ category: String, tid: Int = 0, start: Double, end: Double, args: [(String, Double)] = []) {
        events.append(Event(name: name, category: category, tid: tid, start: start, end: max(end, start), args: args))
    }

    /// This rank's events as JSON lines (`start` and `end` in µs, not yet aligned).
    func serialized(rank: Int) -> String {
        var out = ""
        for e in events {
            var o = JSONObject([("name", .string(e.name)), ("cat", .string(e.category)), ("ph", .string("X")),
                                ("pid", .number(Double(rank), isInteger: true)), ("tid", .number(Double(e.tid), isInteger: true)),
                                ("ts", .number((e.start * 1e6).rounded(), isInteger: true)),
                                ("dur", .number(((e.end - e.start) * 1e6).rounded(), isInteger: true))])
            if !e.args.isEmpty { o["args"] = .object(JSONObject(e.args.map { ($0.0, .number($0.1, isInteger: false)) })) }
            out += JSON.object(o).serialized() + "\n"
        }
        return out
    }

    /// Gathers every rank's events (a collective) and, on rank 0, writes `path`.
    func merge(_ comm: any Communicator, offsets: ClockOffsets, path: String) throws {
        let texts = try gatherText(comm, serialized(rank: comm.rank))
        guard comm.rank == 0 else { return }
        var parsed: [[String: Any]] = []
        for (rank, text) in texts.enumerated() {
            let shift = offsets.seconds[rank] * 1e6
            for line in text.split(separator: "\n") {
                guard var e = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                      let ts = (e["ts"] as? NSNumber)?.doubleValue else { continue }
                e["ts"] = ts - shift
                parsed.append(e)
            }
        }
        let origin = parsed.compactMap { ($0["ts"] as? Double) }.min() ?? 0
        var lines: [String] = []
        for rank in texts.indices {
            lines.append(#"{"name":"process_name","ph":"M","pid":\#(rank),"tid":0,"args":{"name":"rank \#(rank)"}}"#)
            lines.append(#"{"name":"process_sort_index","ph":"M","pid":\#(rank),"tid":0,"args":{"sort_index":\#(rank)}}"#)
            lines.append(#"{"name":"thread_name","ph":"M","pid":\#(rank),"tid":0,"args":{"name":"training"}}"#)
            lines.append(#"{"name":"thread_name","ph":"M","pid":\#(rank),"tid":1,"args":{"name":"gradient all-reduce"}}"#)
        }
        parsed.sort { (($0["ts"] as? Double) ?? 0) < (($1["ts"] as? Double) ?? 0) }
        for var e in parsed {
            e["ts"] = (((e["ts"] as? Double) ?? 0) - origin).rounded()
            let data = try JSONSerialization.data(withJSONObject: e, options: [.sortedKeys])
            lines.append(String(decoding: data, as: UTF8.self))
        }
        let offsetsUs = offsets.seconds.map { String(format: "%.1f", $0 * 1e6) }.joined(separator: ",")
        let trips = offsets.roundTrip.map { String(format: "%.1f", $0 * 1e6) }.joined(separator: ",")
        let text = "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"clock\":\"CLOCK_MONOTONIC of each rank, aligned to rank 0 by MPI ping-pong at start-up; ts 0 is the earliest event\","
            + "\"clock_offsets_us\":[\(offsetsUs)],\"round_trip_us\":[\(trips)],\"origin_us_on_rank0_clock\":\(String(format: "%.0f", origin)),\"ranks\":\(texts.count)},\n"
            + "\"traceEvents\":[\n" + lines.joined(separator: ",\n") + "\n]}\n"
        do {
            try writeFileAtomically(Array(text.utf8), to: path)
        } catch {
            throw RuntimeError("\(path): cannot write the trace: \(error)\n  hint: check the free space and permissions of the run folder")
        }
    }
}
