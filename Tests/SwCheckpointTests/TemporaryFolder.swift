import Foundation
import _TestSupport

/// A fresh folder under the system temporary folder, removed when the test ends.
final class TemporaryFolder {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("swckpt-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    func names(_ sub: String = "") -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: sub.isEmpty ? path : file(sub))) ?? []).sorted()
    }
}

/// Runs `executable args`, returning (status, stdout, stderr).
func run(_ executable: String, _ args: [String]) throws -> (Int32, String, String) {
    try runProcess(executable, args)
}

/// Whether `name` is on PATH (as `/usr/bin/env` would find it).
func onPath(_ name: String) -> Bool {
    (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
        FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
    }
}

/// Whole-file reads for tests.
extension Array where Element == UInt8 {
    init(contentsOfFile path: String) throws {
        self = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
