import Foundation

/// What `swtrain report` reads from a run folder: the lines of metrics.jsonl by event, and the
/// compression and study summaries when the folder has them.
struct RunRecords {
    var train: [[String: Any]] = []
    var eval: [[String: Any]] = []
    var placement: [[String: Any]] = []
    var config: [String: Any]?
    var compression: [String: Any]?
    /// `trials.csv` of a study folder: header and rows.
    var trials: (header: [String], rows: [[String]])?

    /// Reads `directory`; a folder without metrics.jsonl, compression.json or trials.csv is an
    /// error naming what was looked for.
    init(directory: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw ReportError("\(directory): no such folder\n  hint: give a run folder (checkpoint.dir of a config), like runs/mnist1d-mlp")
        }
        let metricsPath = directory + "/metrics.jsonl"
        if let data = fm.contents(atPath: metricsPath) {
            for (i, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
                guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                    // A torn last line (a killed run) is skipped; elsewhere the file is damaged.
                    FileHandle.standardError.write(Data("swtrain: note: \(metricsPath): line \(i + 1) is not a JSON object; skipped\n".utf8))
                    continue
                }
                switch o["event"] as? String {
                case "train": train.append(o)
                case "eval": eval.append(o)
                case "placement": placement.append(o)
                default: break
                }
            }
        }
        if let d = fm.contents(atPath: directory + "/config.json") {
            config = (try? JSONSerialization.jsonObject(with: d)) as? [String: Any]
        }
        if let d = fm.contents(atPath: directory + "/compression.json") {
            compression = (try? JSONSerialization.jsonObject(with: d)) as? [String: Any]
        }
        if let d = fm.contents(atPath: directory + "/trials.csv") {
            let lines = String(decoding: d, as: UTF8.self).split(separator: "\n").map { Self.csvFields(String($0)) }
            if let h = lines.first { trials = (h, Array(lines.dropFirst())) }
        }
        if train.isEmpty && eval.isEmpty && compression == nil && trials == nil {
            throw ReportError("\(directory): nothing to report: no metrics.jsonl lines, compression.json or trials.csv\n  hint: give the folder a training run wrote (checkpoint.dir), a `swtrain lowrank --out` folder or a study folder")
        }
    }

    /// The fields of a CSV line (quoted fields may hold commas and doubled quotes).
    static func csvFields(_ line: String) -> [String] {
        var out: [String] = [], field = "", quoted = false
        var it = Array(line).makeIterator()
        var pending: Character?
        while let c = pending ?? it.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let n = it.next() { if n == "\"" { field.append("\"") } else { quoted = false; pending = n } } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { out.append(field); field = "" }
            else if c != "\r" { field.append(c) }
        }
        out.append(field)
        return out
    }

    /// `(step, value)` of `key` (a path like `time_ms.forward`) over `lines`.
    static func series(_ lines: [[String: Any]], _ key: String) -> [(Double, Double)] {
        lines.compactMap { o in
            guard let step = number(o["step"]), let v = number(value(o, key)) else { return nil }
            return (step, v)
        }
    }

    /// Per rank, `(step, value)` of `key` in the `ranks` array of the train lines.
    static func rankSeries(_ lines: [[String: Any]], _ key: String) -> [Int: [(Double, Double)]] {
        var out: [Int: [(Double, Double)]] = [:]
        for o in lines {
            guard let step = number(o["step"]), let ranks = o["ranks"] as? [[String: Any]] else { continue }
            for r in ranks {
                guard let rank = number(r["rank"]), let v = number(r[key]) else { continue }
                out[Int(rank), default: []].append((step, v))
            }
        }
        return out
    }

    static func value(_ o: [String: Any], _ path: String) -> Any? {
        var cur: Any? = o
        for part in path.split(separator: ".") { cur = (cur as? [String: Any])?[String(part)] }
        return cur
    }

    static func number(_ v: Any?) -> Double? {
        if let n = v as? NSNumber { return n.doubleValue }
        if let d = v as? Double { return d }
        if let i = v as? Int { return Double(i) }
        return nil
    }
}

/// An error of `swtrain report` (exit 2: the folder given is not something to report on).
public struct ReportError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}
