import Foundation
import SwTensor

/// A seeded mutation fuzzer for the parsers of user files (CSV, text, JSON configs,
/// safetensors headers): each iteration mutates a valid input (bit flips, byte insertions
/// of bytes that matter to the format, deletions, truncations, chunk duplication, splices of
/// two inputs) and calls `body`, which must return normally: a parser under test either
/// parses or throws its typed error, which `body` catches and checks.
///
/// A trap (a failed precondition, an overflow, an index out of range) cannot be caught in the
/// process; it ends the test process, which the test runner reports as a failure. So that the
/// input is not lost, `run` installs handlers for SIGILL, SIGTRAP, SIGSEGV, SIGBUS and
/// SIGABRT that write the current input to `Fuzzer.crashFile(name)` (in the temporary folder)
/// with `write(2)`, print its path, and re-raise the signal. A run is a function of its
/// seed: iteration `i` of a given seed always sees the same input.
///
/// Iterations: `iterations` (the CI default the caller picks), or `SWTRAIN_FUZZ_ITERATIONS`
/// when set, or as many as fit in `SWTRAIN_FUZZ_SECONDS` seconds when that is set (a long
/// run: the report gives the count); the seed is `SWTRAIN_FUZZ_SEED` when set. Run one suite at a time (`.serialized`):
/// the crash dump keeps one current input per process.
public struct Fuzzer {
    /// Outcome counts of a run.
    public struct Report: Sendable, CustomStringConvertible {
        public var name: String
        public var iterations = 0
        /// Inputs `body` reported as parsed (true) or refused (false).
        public var parsed = 0, refused = 0
        public var seconds = 0.0
        public var description: String {
            "\(name): \(iterations) inputs, \(parsed) parsed, \(refused) refused, \(String(format: "%.1f", seconds)) s"
        }
    }

    private var state: UInt64

    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    /// SplitMix64.
    public mutating func next() -> UInt64 {
        // SplitMix64's step: advance by the golden gamma, return the finaliser of the new
        // state (`RNG.mix` adds the gamma itself, so it takes the old state).
        defer { state &+= 0x9E37_79B9_7F4A_7C15 }
        return RNG.mix(state)
    }

    /// Uniform in `0..<n` (`n > 0`).
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// One to four mutations of `input`; `corpus` supplies splices, `tokens` insertions.
    public mutating func mutate(_ input: [UInt8], corpus: [[UInt8]], tokens: [[UInt8]]) -> [UInt8] {
        var b = input
        for _ in 0...below(4) {
            switch below(7) {
            case 0 where !b.isEmpty:                                  // flip a bit
                b[below(b.count)] ^= UInt8(1) << UInt8(below(8))
            case 1:                                                   // insert a random byte
                b.insert(UInt8(truncatingIfNeeded: next()), at: below(b.count + 1))
            case 2 where !tokens.isEmpty:                             // insert a format token
                b.insert(contentsOf: tokens[below(tokens.count)], at: below(b.count + 1))
            case 3 where !b.isEmpty:                                  // delete a range
                let at = below(b.count)
                b.removeSubrange(at..<min(b.count, at + 1 + below(16)))
            case 4 where !b.isEmpty:                                  // truncate
                b.removeSubrange(below(b.count)..<b.count)
            case 5 where !corpus.isEmpty:                             // splice with another input
                let other = corpus[below(corpus.count)]
                b = Array(b.prefix(below(b.count + 1))) + other.suffix(below(other.count + 1))
            case 6 where !b.isEmpty:                                  // duplicate a chunk
                let at = below(b.count)
                let chunk = b[at..<min(b.count, at + 1 + below(32))]
                b.insert(contentsOf: chunk, at: below(b.count + 1))
            default:
                break
            }
        }
        return b
    }

    /// The iteration count: `SWTRAIN_FUZZ_ITERATIONS` when set, else `ciDefault`.
    public static func iterations(_ ciDefault: Int) -> Int {
        ProcessInfo.processInfo.environment["SWTRAIN_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? ciDefault
    }

    /// Where the input of a crashing iteration of `name` is written.
    public static func crashFile(_ name: String) -> String {
        (NSTemporaryDirectory() as NSString).appendingPathComponent("swtrain-fuzz-crash-\(name).bin")
    }

    /// Feeds `iterations` mutants of `seeds` (the seeds themselves first) to `body`, which
    /// returns whether the input parsed. The crash handlers are installed for the run.
    public static func run(_ name: String, seeds: [[UInt8]], tokens: [[UInt8]], iterations ciDefault: Int,
                           seed: UInt64 = 1, body: ([UInt8]) -> Bool) -> Report {
        let seedValue = ProcessInfo.processInfo.environment["SWTRAIN_FUZZ_SEED"].flatMap { UInt64($0) } ?? seed
        var fuzzer = Fuzzer(seed: seedValue)
        var report = Report(name: name)
        let count = iterations(ciDefault)
        let budget = ProcessInfo.processInfo.environment["SWTRAIN_FUZZ_SECONDS"].flatMap { Double($0) }
        CrashDump.install(path: crashFile(name))
        defer { CrashDump.uninstall() }
        let start = Date()
        var pool = seeds
        var i = 0
        while budget == nil ? i < count : (i < seeds.count || i % 64 != 0 || Date().timeIntervalSince(start) < budget!) {
            defer { i += 1 }
            let input = i < seeds.count ? seeds[i] : fuzzer.mutate(pool[fuzzer.below(pool.count)], corpus: pool, tokens: tokens)
            CrashDump.setCurrent(input)
            if body(input) {
                report.parsed += 1
                if pool.count < 64 && fuzzer.below(8) == 0 { pool.append(input) }   // grow from inputs that parse
            } else {
                report.refused += 1
            }
            report.iterations += 1
        }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }
}

/// The signal-time dump of the current fuzz input (one per process).
enum CrashDump {
    nonisolated(unsafe) static var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    nonisolated(unsafe) static var capacity = 1
    nonisolated(unsafe) static var length = 0
    nonisolated(unsafe) static var path: UnsafeMutablePointer<CChar>? = nil
    static let signals: [Int32] = [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT]
    nonisolated(unsafe) static var previous: [sigaction] = []

    static func setCurrent(_ input: [UInt8]) {
        if input.count > capacity {
            let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: input.count)
            length = 0
            let old = buffer
            buffer = fresh
            capacity = input.count
            old.deallocate()
        }
        input.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: $0.count) }
        length = input.count
    }

    static func install(path p: String) {
        unlink(p)
        path = strdup(p)
        previous = signals.map { sig in
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                if let path = CrashDump.path {
                    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                    if fd >= 0 {
                        _ = write(fd, CrashDump.buffer, CrashDump.length)
                        close(fd)
                    }
                    let note = "\nfuzz: input of the crashing iteration written to "
                    _ = note.withCString { write(2, $0, strlen($0)) }
                    _ = write(2, path, strlen(path))
                    _ = write(2, "\n", 1)
                }
                signal(sig, SIG_DFL)
                raise(sig)
            }
            var old = sigaction()
            sigaction(sig, &action, &old)
            return old
        }
    }

    static func uninstall() {
        for (sig, old) in zip(signals, previous) {
            var o = old
            sigaction(sig, &o, nil)
        }
        previous = []
        free(path)
        path = nil
    }
}
