import Foundation
import SwConfig

/// `metrics.jsonl` of the run folder: one JSON object per line, written by rank 0 only and
/// flushed per line so a killed run keeps everything it logged.
final class MetricsLog {
    private let handle: FileHandle?

    /// Opens `path`, truncating it for a new run or appending when resuming.
    init(path: String?, append: Bool) throws {
        guard let path else { handle = nil; return }
        let fm = FileManager.default
        if !append || !fm.fileExists(atPath: path) {
            guard fm.createFile(atPath: path, contents: nil) else {
                throw RuntimeError("\(path): cannot create the metrics file")
            }
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        _ = try handle?.seekToEnd()
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
