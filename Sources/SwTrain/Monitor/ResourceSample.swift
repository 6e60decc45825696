import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What this process uses, read from `/proc/self/status` (VmRSS, VmHWM, Threads) and
/// `getrusage` (user + system CPU seconds). Zero where the system does not say (not Linux).
struct ResourceSample: Sendable {
    var rssBytes: Int64 = 0
    var peakRSSBytes: Int64 = 0
    var threads: Int64 = 0
    /// User + system CPU seconds of the whole process (every thread) since it started.
    var cpuSeconds: Double = 0

    static func now() -> ResourceSample {
        var s = ResourceSample()
        if let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
            for line in text.split(separator: "\n") {
                if line.hasPrefix("VmRSS:") { s.rssBytes = kilobytes(line) * 1024 }
                else if line.hasPrefix("VmHWM:") { s.peakRSSBytes = kilobytes(line) * 1024 }
                else if line.hasPrefix("Threads:") { s.threads = kilobytes(line) }
            }
        }
        var u = rusage()
        if getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u) == 0 {
            s.cpuSeconds = Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) * 1e-6
                + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) * 1e-6
        }
        return s
    }

    /// The number of `VmRSS:   1234 kB` (or `Threads:\t5`).
    private static func kilobytes(_ line: Substring) -> Int64 {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        return fields.count >= 2 ? Int64(fields[1]) ?? 0 : 0
    }
}
