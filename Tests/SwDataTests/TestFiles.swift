import Foundation
import _TestSupport

/// A fresh temporary folder for one test.
func temporaryFolder(_ name: String = #function) -> URL {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("swdata-\(safe)-\(UUID().uuidString.prefix(8))")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Bytes of a value in memory order (little-endian on our hosts).
func rawBytes<T>(_ values: [T]) -> [UInt8] {
    values.withUnsafeBytes { Array($0) }
}

func write(_ bytes: [UInt8], to url: URL) {
    try! Data(bytes).write(to: url)
}

/// Runs python3 with numpy on `script`; false when python3 or numpy is unavailable.
func runNumpy(_ script: String) -> Bool {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", "import numpy as np\n" + script]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
}
