import Foundation
import Testing
import SwConfig
import SwTrain
import _TestSupport

/// The run's monitoring (docs/monitor.md), end to end on one np=2 run in which rank 1 sleeps
/// 60 ms in every forward (`SWTRAIN_TEST_SLOW_RANK`; well above the few milliseconds a loaded
/// machine may delay a waiting rank's wake-up) and rank 1's monitor clock runs 5 s ahead
/// (`SWTRAIN_TEST_CLOCK_SKEW`, as another host's clock would): the straggler is named (rank 1,
/// not rank 0), the merged trace is valid with both ranks' events aligned, TensorBoard records
/// pass both CRCs and hold the logged values, and `swtrain report` draws every plot.
@Suite(.serialized, .enabled(if: TrainJobs.canRun, "mpirun or the swtrain executable is missing: monitor tests skipped"))
struct MonitorTests {
    static let monitor = #""monitor": {"trace": {"enabled": true, "steps": [2, 40]}, "stragglers": {"window_steps": 20}},"#

    /// One shared run (the suite is serialized; the run takes a few seconds).
    static let run: Result<(folder: String, stdout: String), any Error> = Result {
        let text = TrainJobs.config(maxSteps: 40).replacingOccurrences(of: #""name": "dp-test","#, with: #""name": "dp-test", "# + monitor)
        let folder = try TrainJobs.folder(config: text)
        let r = try TrainJobs.train(folder, run: "run", ranks: 2,
                                    ["--set", #"parallel.sync="allreduce""#, "--set", #"parallel.overlap="on""#,
                                     "--set", "parallel.bucket_mb=0.002",
                                     // Rank 0 alone saves checkpoints, which makes it late at the next step: only at the end here.
                                     "--set", "checkpoint.every_steps=0", "--set", "training.eval_every_steps=0"],
                                    environment: ["SWTRAIN_TEST_SLOW_RANK": "1:60ms", "SWTRAIN_TEST_CLOCK_SKEW": "1:5"])
        guard r.status == 0 else { throw MPIRun.RunError(description: "exit \(r.status)\n\(r.stdout)\n\(r.stderr)") }
        return (folder + "/run", r.stdout)
    }

    static func lines(_ folder: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: folder + "/metrics.jsonl", encoding: .utf8)
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    static func number(_ v: Any?) -> Double? { (v as? NSNumber)?.doubleValue }

    @Test func theSlowRankIsNamedAndTheOtherIsNot() throws {
        let (folder, stdout) = try Self.run.get()
        #expect(stdout.contains("straggler: rank 1: compute"), "no straggler line for rank 1:\n\(stdout)")
        #expect(!stdout.contains("rank 0: compute"), "rank 0 was named:\n\(stdout)")
        let train = try Self.lines(folder).filter { $0["event"] as? String == "train" }
        try #require(train.count == 8)
        var waits = [0.0, 0.0]
        for line in train {
            let ranks = try #require(line["ranks"] as? [[String: Any]])
            try #require(ranks.count == 2)
            let c0 = try #require(Self.number(ranks[0]["compute_ms"])), c1 = try #require(Self.number(ranks[1]["compute_ms"]))
            // Rank 1 sleeps 60 ms a step in its forward; all-reduce makes rank 0 wait for it.
            #expect(c1 >= 60 && c1 > c0, "compute: rank 0 \(c0) ms, rank 1 \(c1) ms")
            let late0 = try #require(Self.number(ranks[0]["late_ms"])), late1 = try #require(Self.number(ranks[1]["late_ms"]))
            // Not 5000 ms: the 5 s skew of rank 1's clock is removed by the measured offset.
            #expect(late0 < late1 && late1 < 1000, "lateness: rank 0 \(late0), rank 1 \(late1)")
            waits[0] += try #require(Self.number(ranks[0]["wait_ms"]))
            waits[1] += try #require(Self.number(ranks[1]["wait_ms"]))
            for r in ranks {
                #expect((Self.number(r["rss_mb"]) ?? 0) > 1 && (Self.number(r["peak_rss_mb"]) ?? 0) >= (Self.number(r["rss_mb"]) ?? 0))
                #expect((Self.number(r["threads"]) ?? 0) >= 1 && (Self.number(r["cpu_util"]) ?? -1) >= 0)
                #expect((Self.number(r["comm_bytes"]) ?? 0) > 0 && (Self.number(r["monitor_ms"]) ?? -1) >= 0)
            }
        }
        #expect(waits[0] > waits[1], "the punctual rank waits for the late one: waits \(waits)")
        let last = try #require(train.last?["straggler"] as? [String: Any])
        #expect(Self.number(last["rank"]) == 1)
        let placement = try #require(try Self.lines(folder).first { $0["event"] as? String == "placement" })
        let ranks = try #require(placement["ranks"] as? [[String: Any]])
        #expect(ranks.count == 2 && ranks.allSatisfy { ($0["host"] as? String)?.isEmpty == false && $0["kernels"] != nil })
    }

    @Test func theMergedTraceIsValidAlignedAndOrdered() throws {
        let (folder, _) = try Self.run.get()
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/trace.json"))
        let doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let other = try #require(doc["otherData"] as? [String: Any])
        let offsets = try #require(other["clock_offsets_us"] as? [Any]).compactMap(Self.number)
        try #require(offsets.count == 2)
        #expect(offsets[0] == 0 && abs(offsets[1] - 5e6) < 1e5, "rank 1's clock runs 5 s ahead; measured offsets \(offsets)")
        let events = try #require(doc["traceEvents"] as? [[String: Any]]).filter { $0["ph"] as? String == "X" }
        var byThread: [String: [(Double, Double, String)]] = [:]
        var steps: [Int: [Int: Double]] = [:]   // step -> rank -> end
        for e in events {
            let pid = try #require(Self.number(e["pid"])), tid = try #require(Self.number(e["tid"]))
            let ts = try #require(Self.number(e["ts"])), dur = try #require(Self.number(e["dur"]))
            #expect(ts >= 0 && dur >= 0)
            let name = e["name"] as? String ?? ""
            byThread["\(Int(pid))/\(Int(tid))", default: []].append((ts, dur, e["cat"] as? String ?? ""))
            if e["cat"] as? String == "step", let s = Self.number((e["args"] as? [String: Any])?["step"]) {
                #expect(s >= 2 && s <= 40, "\(name) outside monitor.trace.steps")
                steps[Int(s), default: [:]][Int(pid)] = ts + dur
            }
        }
        #expect(Set(byThread.keys).isSuperset(of: ["0/0", "1/0", "0/1", "1/1"]), "threads: \(byThread.keys.sorted())")
        for (thread, list) in byThread {
            #expect(zip(list, list.dropFirst()).allSatisfy { $0.0 <= $1.0 }, "\(thread): timestamps go back")
            // The phases of the training thread follow one another (the step spans hold them).
            let phases = list.filter { $0.2 != "step" }
            if thread.hasSuffix("/0") {
                for (a, b) in zip(phases, phases.dropFirst()) { #expect(a.0 + a.1 <= b.0 + 1, "\(thread): \(a) overlaps \(b)") }
            }
        }
        #expect(steps.count == 39)
        for (s, ends) in steps {
            let e0 = try #require(ends[0]), e1 = try #require(ends[1])
            // Both ranks leave the step's all-reduce together: aligned ends, not 5 s apart (a
            // loaded machine may deschedule a rank for tens of ms after it, hence the margin).
            #expect(abs(e0 - e1) < 1_000_000, "step \(s): ends \(e0) and \(e1) µs")
        }
    }

    @Test func tensorBoardRecordsPassBothCRCsAndHoldTheLoggedValues() throws {
        let (folder, _) = try Self.run.get()
        #expect(TFRecord.crc32c(Array("123456789".utf8)) == 0xE306_9283)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("events.out.tfevents.") }
        try #require(files.count == 1)
        let events = try TFRecord.read(Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + files[0]))))
        #expect(events.first?.fileVersion == "brain.Event:2")
        let train = try Self.lines(folder).filter { $0["event"] as? String == "train" }
        let evals = try Self.lines(folder).filter { $0["event"] as? String == "eval" }
        for line in train {
            let step = Int(try #require(Self.number(line["step"])))
            let e = try #require(events.first { $0.step == step && $0.values["train/loss"] != nil }, "no event of step \(step)")
            #expect(e.values["train/loss"] == Float(try #require(Self.number(line["loss"]))))
            #expect(e.values["train/lr"] == Float(try #require(Self.number(line["lr"]))))
            #expect(e.values["time_ms/forward"] != nil && e.values["train/samples_per_sec"] != nil)
            #expect(e.wallTime > 1.7e9)
        }
        for line in evals {
            let step = Int(try #require(Self.number(line["step"])))
            let e = try #require(events.first { $0.step == step && $0.values["eval/accuracy"] != nil })
            #expect(e.values["eval/accuracy"] == Float(try #require(Self.number(line["accuracy"]))))
        }
    }

    @Test func theReportDrawsEveryPlotAndItsScriptRuns() throws {
        let (folder, _) = try Self.run.get()
        let out = folder + "/r.html"
        let r = try MPIRun.run(ranks: 0, program: "swtrain", ["report", folder, "--out", out])
        try #require(r.status == 0, "\(r.stderr)")
        let html = try String(contentsOfFile: out, encoding: .utf8)
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http"), "nothing is fetched")
        #expect(!html.contains("<script src") && !html.contains("<link"))
        for plot in ["loss", "accuracy", "lr", "throughput", "step_time_per_rank", "compute_per_rank",
                     "lateness_per_rank", "wait_per_rank", "rss_per_rank", "cpu_per_rank"] {
            let marker = "data-plot=\"\(plot)\" data-points=\""
            let range = try #require(html.range(of: marker), "plot \(plot) missing")
            let count = Int(html[range.upperBound...].prefix { $0.isNumber }) ?? 0
            #expect(count > 0, "plot \(plot) has no data")
        }
        // A real browser, when there is one: the page's script ran without error.
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            print("note: chromium is not installed (apt-get install -y chromium): the headless-browser check of report.html is skipped")
            return
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(folder)/chromium-profile", "--dump-dom", "file://" + out]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let dom = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(dom.contains("data-report-check=\"ok plots=10 with-data=10\""), "the page's script did not finish: \(dom.prefix(300))")
    }

    @Test func theReportShowsCompressionAndStudySummariesAndRefusesAnEmptyFolder() throws {
        let folder = try TrainJobs.folder(config: "{}")
        defer { TrainJobs.remove(folder) }
        try #"{"method": "lowrank-svd", "before": {"parameters": 5000, "test_accuracy": 0.61}, "after": {"parameters": 1200, "test_accuracy": 0.58}}"#
            .write(toFile: folder + "/compression.json", atomically: true, encoding: .utf8)
        try "number,state,value\n0,COMPLETE,0.5\n1,COMPLETE,0.625\n".write(toFile: folder + "/trials.csv", atomically: true, encoding: .utf8)
        let r = try MPIRun.run(ranks: 0, program: "swtrain", ["report", folder])
        try #require(r.status == 0, "\(r.stderr)")
        let html = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
        #expect(html.contains("Compression (lowrank-svd)") && html.contains("<td>1200</td>") && html.contains("0.625"))
        #expect(html.contains("data-plot=\"trial_values\" data-points=\"2\""))
        let empty = try TrainJobs.folder(config: "{}")
        defer { TrainJobs.remove(empty) }
        let e = try MPIRun.run(ranks: 0, program: "swtrain", ["report", empty])
        #expect(e.status == 2 && e.stderr.contains("nothing to report"), "\(e.status) \(e.stderr)")
    }

    @Test func monitorConfigIsCheckedAndOnlyWrittenWhenGiven() throws {
        let base = TrainJobs.config()
        let plain = try TrainConfig.parse(text: base)
        guard case .object(let o) = plain.resolved else { Issue.record("resolved is not an object"); return }
        #expect(o["monitor"] == nil, "a config without monitor keeps its hash")
        #expect(throws: ConfigError.self) { try TrainConfig.parse(text: base, overrides: ["monitor.trace.stpes=1"]) }
        #expect(throws: ConfigError.self) { try TrainConfig.parse(text: base, overrides: ["monitor.trace.steps=[5,2]"]) }
        #expect(throws: ConfigError.self) { try TrainConfig.parse(text: base, overrides: ["monitor.stragglers.ratio=0.5"]) }
        let c = try TrainConfig.parse(text: base, overrides: ["monitor.trace.steps=[3,9]"])
        #expect(c.monitor.traceFirstStep == 3 && c.monitor.traceLastStep == 9 && !c.monitor.traceEnabled)
    }
}

/// A reader of TFRecord files of `tensorflow.Event`s, written apart from swtrain's writer.
enum TFRecord {
    struct Event {
        var wallTime = 0.0
        var step = 0
        var fileVersion: String?
        var values: [String: Float] = [:]
    }

    struct Bad: Error, CustomStringConvertible { let description: String }

    static func crc32c(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = ~0
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0x82F6_3B78 & (0 &- (crc & 1))) }
        }
        return ~crc
    }

    static func masked(_ c: UInt32) -> UInt32 { ((c >> 15) | (c << 17)) &+ 0xA282_EAD8 }

    static func u32(_ b: ArraySlice<UInt8>) -> UInt32 { b.enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) } }

    static func read(_ bytes: [UInt8]) throws -> [Event] {
        var events: [Event] = [], i = 0
        while i < bytes.count {
            guard i + 12 <= bytes.count else { throw Bad(description: "torn header at \(i)") }
            let lengthBytes = Array(bytes[i..<i + 8])
            let length = lengthBytes.enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            guard u32(bytes[i + 8..<i + 12]) == masked(crc32c(lengthBytes)) else { throw Bad(description: "length CRC at \(i)") }
            guard i + 12 + length + 4 <= bytes.count else { throw Bad(description: "torn record at \(i)") }
            let data = Array(bytes[i + 12..<i + 12 + length])
            guard u32(bytes[i + 12 + length..<i + 16 + length]) == masked(crc32c(data)) else { throw Bad(description: "data CRC at \(i)") }
            events.append(try event(data))
            i += 16 + length
        }
        return events
    }

    /// Fields of a protobuf message: (field number, wire type, varint or fixed value, bytes).
    static func fields(_ d: [UInt8]) throws -> [(Int, Int, UInt64, [UInt8])] {
        var out: [(Int, Int, UInt64, [UInt8])] = [], i = 0
        func varint() throws -> UInt64 {
            var v: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard i < d.count else { throw Bad(description: "torn varint") }
                let b = d[i]; i += 1
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return v }
                shift += 7
            }
        }
        while i < d.count {
            let key = try varint()
            let field = Int(key >> 3), wire = Int(key & 7)
            switch wire {
            case 0: out.append((field, 0, try varint(), []))
            case 1: out.append((field, 1, d[i..<i + 8].enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }, [])); i += 8
            case 5: out.append((field, 5, UInt64(u32(d[i..<i + 4])), [])); i += 4
            case 2:
                let n = Int(try varint())
                out.append((field, 2, 0, Array(d[i..<i + n]))); i += n
            default: throw Bad(description: "wire type \(wire)")
            }
        }
        return out
    }

    static func event(_ d: [UInt8]) throws -> Event {
        var e = Event()
        for (field, _, v, bytes) in try fields(d) {
            switch field {
            case 1: e.wallTime = Double(bitPattern: v)
            case 2: e.step = Int(Int64(bitPattern: v))
            case 3: e.fileVersion = String(decoding: bytes, as: UTF8.self)
            case 5:
                for (f, _, _, value) in try fields(bytes) where f == 1 {
                    var tag = "", x: Float = .nan
                    for (g, _, w, b) in try fields(value) {
                        if g == 1 { tag = String(decoding: b, as: UTF8.self) }
                        if g == 2 { x = Float(bitPattern: UInt32(w)) }
                    }
                    e.values[tag] = x
                }
            default: break
            }
        }
        return e
    }
}
