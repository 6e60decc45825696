import CMPI
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ends the job, with a message, when a rank has waited in one communication call for
/// `timeout` seconds: a stopped (SIGSTOP), stuck or dead peer never leaves its peers
/// spinning silently.
///
/// How: `MPICommunicator` marks every blocking call (`MPI_Allreduce`, `MPI_Bcast`,
/// `MPI_Allgather`, `MPI_Barrier`, `MPI_Send`/`MPI_Recv`, a request's `MPI_Wait`) as entered
/// and left; a monitor thread wakes every `min(1 s, timeout / 4)` and, when it sees the same
/// call still entered for `timeout` seconds, writes what this rank waits on (the operation,
/// its size, the peer or the ranks of the communicator, the step and, for gradient buckets,
/// which bucket) to stderr and to the log file, then calls `MPI_Abort(MPI_COMM_WORLD, 1)`,
/// which ends every rank of the job. On the step path this costs an uncontended lock per MPI
/// call, and nothing while the watchdog is not started.
///
/// A collective cannot tell which member is missing: the message names the other members of
/// the communicator (exactly the missing one with two ranks). Every waiting rank reports; the
/// rank that does not is the one that stopped.
///
/// `MPI_Abort` from the monitor thread is outside `MPI_THREAD_FUNNELED`'s letter; Open MPI
/// handles it (it only contacts the launcher), and `_exit(1)` follows should it return.
public final class CommWatchdog: Sendable {
    /// The one watchdog of the process.
    public static let shared = CommWatchdog()

    /// What a blocked call was doing, recorded at entry (no allocation: literals and integers).
    struct Call {
        var sequence: UInt64 = 0
        var inside = false
        var operation: StaticString = ""
        var elements: Int = 0
        var unit: StaticString = ""
        /// The communicator rank of the peer for point-to-point calls, else -1.
        var peer: Int = -1
        var tag: Int = -1
        /// World ranks of the communicator's members, in communicator order.
        var members: [Int] = []
        /// What the request serves (`"gradient bucket"`), with its index and count, or "".
        var purpose: StaticString = ""
        var purposeIndex: Int = -1
        var purposeCount: Int = 0
    }

    struct Settings {
        var timeout: Double = 0
        var rank: Int = -1
        var logPath: String?
        var running = false
        var configKey: String = "parallel.timeout_s"
    }

    private let call = Mutex(Call())
    private let settings = Mutex(Settings())
    private let enabled = Atomic<Bool>(false)
    /// Set once the report is out and the job is being ended: no watched call returns after
    /// it (see `parkIfEnding`).
    private let ending = Atomic<Bool>(false)
    private let step = Atomic<Int>(-1)
    /// A phase the caller names (`"gradient buckets"` for the tail all-reduce), with a range.
    private let phase = Mutex<(StaticString, Int, Int)>(("", -1, -1))

    /// True once `start` ran with a positive timeout (and until `stop`).
    public var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// Starts watching with `timeoutSeconds` (> 0); `rank` is this process's world rank;
    /// `logPath`, if set, gets the report appended (one `write`, `O_APPEND`). `configKey` is
    /// named in the report as what to raise. Calling again updates the settings.
    public func start(timeoutSeconds: Double, rank: Int, logPath: String?, configKey: String = "parallel.timeout_s") {
        guard timeoutSeconds > 0 else { stop(); return }
        let launch = settings.withLock { s -> Bool in
            s.timeout = timeoutSeconds
            s.rank = rank
            s.logPath = logPath
            s.configKey = configKey
            defer { s.running = true }
            return !s.running
        }
        enabled.store(true, ordering: .relaxed)
        if launch { spawnMonitor() }
    }

    /// Stops reporting (the monitor thread idles until a later `start`).
    public func stop() {
        enabled.store(false, ordering: .relaxed)
    }

    /// Records the training step this rank is in (shown in the report).
    public func setStep(_ n: Int) {
        step.store(n, ordering: .relaxed)
    }

    /// Names what the next blocking calls serve (e.g. `"gradient buckets"`, 3, 5 for buckets
    /// 3...5); `clearPhase()` ends it.
    public func setPhase(_ what: StaticString, _ from: Int, _ to: Int) {
        if isEnabled { phase.withLock { $0 = (what, from, to) } }
    }

    /// Ends the phase set by `setPhase`.
    public func clearPhase() {
        if isEnabled { phase.withLock { $0 = ("", -1, -1) } }
    }

    // MARK: entry and exit (MPICommunicator, CommRequest)

    @inline(__always)
    func watch<T>(_ operation: StaticString, _ elements: Int, _ unit: StaticString, peer: Int = -1, tag: Int = -1,
                  members: [Int], request: CommRequest? = nil, _ body: () throws -> T) rethrows -> T {
        guard isEnabled else { return try body() }
        parkIfEnding()
        call.withLock { c in
            c.sequence &+= 1
            c.inside = true
            c.operation = operation
            c.elements = elements
            c.unit = unit
            c.peer = peer
            c.tag = tag
            c.members = members
            c.purpose = request?.purpose ?? ""
            c.purposeIndex = request?.purposeIndex ?? -1
            c.purposeCount = request?.purposeCount ?? 0
        }
        defer {
            call.withLock { $0.inside = false; $0.sequence &+= 1 }
            parkIfEnding()
        }
        return try body()
    }

    /// Once the watchdog has fired, the thread that makes MPI calls stops here until the job's
    /// end reaches the process. `MPI_Abort` makes Open MPI send SIGCONT before SIGTERM, so the
    /// stopped peer wakes up and the collective this rank waited in can complete: without
    /// this, the rank would go on training (and could save a later checkpoint) in the moment
    /// before SIGTERM arrives.
    @inline(__always)
    private func parkIfEnding() {
        guard ending.load(ordering: .acquiring) else { return }
        while true { pause() }
    }

    // MARK: the monitor

    private func spawnMonitor() {
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { _ in CommWatchdog.shared.monitor() }, nil)
        if rc == 0 { pthread_detach(thread) }
    }

    private func monitor() -> Never {
        var seen: UInt64 = 0
        var since = 0.0
        while true {
            let timeout = settings.withLock { $0.timeout }
            let period = max(0.05, min(1.0, timeout / 4))
            var ts = timespec(tv_sec: Int(period), tv_nsec: Int((period - Double(Int(period))) * 1e9))
            nanosleep(&ts, nil)
            guard isEnabled else { seen = 0; continue }
            let (sequence, inside) = call.withLock { ($0.sequence, $0.inside) }
            let now = Self.monotonic()
            if !inside || sequence != seen {
                seen = sequence
                since = now
                continue
            }
            if now - since >= timeout { fire(waited: now - since) }
        }
    }

    private func fire(waited: Double) -> Never {
        let c = call.withLock { $0 }
        let s = settings.withLock { $0 }
        let p = phase.withLock { $0 }
        let text = Self.report(call: c, rank: s.rank, step: step.load(ordering: .relaxed), phase: p,
                               waited: waited, timeout: s.timeout, configKey: s.configKey)
        ending.store(true, ordering: .releasing)
        Self.emit(text, logPath: s.logPath)
        MPI_Abort(swt_mpi_comm_world(), 1)
        _exit(1)
    }

    /// The report: `swtrain: error: rank 0: watchdog: no progress for 3.0 s (parallel.timeout_s
    /// = 3) at step 5 in MPI_Allreduce (sum of 1024 floats, gradient bucket 2 of 4) on a
    /// communicator of 2 ranks (world ranks 0, 1); not heard from: rank 1 ...`.
    static func report(call c: Call, rank: Int, step: Int, phase: (StaticString, Int, Int),
                       waited: Double, timeout: Double, configKey: String) -> String {
        var details: [String] = c.unit.utf8CodeUnitCount > 0 ? ["\(c.elements) \(c.unit)"] : []
        if c.peer >= 0 {
            let world = c.peer < c.members.count ? c.members[c.peer] : c.peer
            details.append(c.operation.description.contains("Send") ? "to rank \(world)" : "from rank \(world)")
            if c.tag >= 0 { details.append("tag \(c.tag)") }
        }
        if c.purposeIndex >= 0 {
            details.append("\(c.purpose) \(c.purposeIndex + 1) of \(c.purposeCount)")
        } else if phase.1 >= 0 {
            details.append("\(phase.0) \(phase.1 + 1)...\(phase.2 + 1)")
        }
        let what = "\(c.operation)" + (details.isEmpty ? "" : " (" + details.joined(separator: ", ") + ")")
        let others: [Int]
        if c.peer >= 0 {
            others = [c.peer < c.members.count ? c.members[c.peer] : c.peer]
        } else {
            others = c.members.filter { $0 != rank }
        }
        let heard: String
        if c.peer >= 0 {
            heard = "not heard from: rank \(others[0])"
        } else if others.count == 1 {
            heard = "not heard from: rank \(others[0]) (the only other member)"
        } else {
            heard = "not heard from: at least one of ranks \(others.map(String.init).joined(separator: ", ")) "
                + "(a collective cannot tell which; the ranks that report this are the ones waiting)"
        }
        let stepText = step >= 0 ? "at step \(step) " : ""
        let timeoutText = timeout == timeout.rounded() ? String(Int(timeout)) : String(timeout)
        return "swtrain: error: rank \(rank): watchdog: no progress for \(Self.seconds(waited)) s (\(configKey) = \(timeoutText)) "
            + "\(stepText)waiting in \(what) on a communicator of \(c.members.count) ranks "
            + "(world ranks \(c.members.map(String.init).joined(separator: ", "))); \(heard)\n"
            + "  ending the job (MPI_Abort, exit 1): a rank is stopped (SIGSTOP), stuck, dead or unreachable\n"
            + "  hint: check that rank's host and process; if a step legitimately waits longer (a slow checkpoint disk), raise \(configKey) (0 disables)\n"
    }

    private static func seconds(_ s: Double) -> String {
        let tenths = Int((s * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// Writes `text` to stderr and appends it to `logPath` (each in one `write`).
    static func emit(_ text: String, logPath: String?) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
        if let path = logPath {
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            if fd >= 0 {
                _ = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
            }
        }
    }

    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
