import Foundation
import SwConfig

/// `metrics.jsonl` of the run folder: one JSON object per line, written by rank 0 only and
/// flushed per line so a killed run keeps everything it logged.
final class MetricsLog {
    private let handle: FileHandle?

    /// Opens `path`, truncating it for a new run, or appending when resuming at step
    /// `resumedAt`: lines of later steps (logged by a run killed after its last checkpoint)
    /// and a torn last line are dropped first, so the resumed run's lines follow on exactly.
    init(path: String?, resumedAt: Int?) throws {
        guard let path else { handle = nil; return }
        let fm = FileManager.default
        if let resumedAt, let old = fm.contents(atPath: path) {
            let kept = MetricsLog.lines(String(decoding: old, as: UTF8.self), upTo: resumedAt)
            if kept.utf8.count != old.count {
                do {
                    try kept.write(toFile: path, atomically: true, encoding: .utf8)
                } catch {
                    throw RuntimeError("\(path): cannot rewrite the metrics file: \(ioErrorText(error))")
                }
            }
        } else if !fm.createFile(atPath: path, contents: nil) {
            throw RuntimeError("\(path): cannot create the metrics file")
        }
        do {
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            _ = try handle?.seekToEnd()
        } catch {
            throw RuntimeError("\(path): cannot open the metrics file: \(ioErrorText(error))")
        }
    }

    /// The complete lines of `text` whose `"step"` is at most `step` (lines without a step
    /// are kept; a line that does not parse, like a torn last line, is dropped).
    static func lines(_ text: String, upTo step: Int) -> String {
        var out = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let data = line.data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { continue }
            if let s = object["step"] as? Int, s > step { continue }
            out += line + "\n"
        }
        return out
    }

    func write(_ object: JSONObject) {
        handle?.write(Data((JSON.object(object).serialized() + "\n").utf8))
    }

    deinit { try? handle?.close() }
}

/// The progress line: updated in place on a terminal, plain lines otherwise.
struct ProgressLine {
    let inPlace: Bool
    init(plain: Bool) { inPlace = !plain && isatty(STDOUT_FILENO) != 0 }

    func show(_ text: String) {
        if inPlace {
            print("\r\u{1B}[2K" + text, terminator: "")
            fflush(nil)
        } else {
            print(text)
        }
    }

    func finish() { if inPlace { print("") } }

    static func duration(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "?" }
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}
