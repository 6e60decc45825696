import SwComm
import SwConfig

/// Straggler attribution and resource use over one metrics window (the steps between two
/// train lines), gathered from every rank at the train line.
///
/// All-reduce equalises step time: every rank leaves the gradient exchange together, so a rank
/// slow in compute makes the others wait and looks no slower by wall time. So each rank records,
/// per step, its compute time (the step minus its communication wait) and its arrival time at
/// the step's gradient exchange (`StepTimes.arrival`, on the monitor's clock). Rank 0 aligns the
/// arrivals with the start-up clock offsets; a rank's lateness in a step is its arrival minus
/// the earliest arrival of that step. A rank is named when, over the last `window` steps, its
/// compute time is more than `ratio` times the median of the other ranks' and it was the last to
/// arrive in at least half of those steps.
final class StragglerWindow {
    /// One rank's figures of a window, as rank 0 reduces them.
    struct RankFigures {
        var rank: Int
        var computeMs = 0.0, waitMs = 0.0, lateMs = 0.0
        var dataMs = 0.0, forwardMs = 0.0, backwardMs = 0.0, optimizerMs = 0.0
        var rssBytes: Int64 = 0, peakRSSBytes: Int64 = 0, threads: Int64 = 0
        var cpuUtilisation = 0.0, commBytes: Int64 = 0
        /// The monitor's own time per step (recording, the previous window's gather).
        var monitorMs = 0.0
    }

    private var compute: [Double] = [], arrival: [Double] = []
    private var sums = StepTimes()
    private var steps = 0
    private var commBytes = 0
    /// Seconds the monitor itself spent in this window.
    private var overhead = 0.0
    private var startWall: Double
    private var startCPU: Double
    /// Rank 0: the last `window` steps of every rank: compute seconds, and whether it arrived last.
    private var history: [(compute: [Double], last: Int)] = []
    private let window: Int
    private let ratio: Double
    /// Rank 0: the step at which each rank was last named in the log (rate limit: once a window).
    private var namedAt: [Int: Int] = [:]

    init(window: Int, ratio: Double, clock: () -> Double) {
        self.window = window
        self.ratio = ratio
        startWall = clock()
        startCPU = ResourceSample.now().cpuSeconds
        compute.reserveCapacity(1024)
        arrival.reserveCapacity(1024)
    }

    /// Records a finished step of this rank; `arrival` on the monitor's clock.
    func add(times: StepTimes, arrival a: Double, commBytes bytes: Int) {
        compute.append(times.total - times.commWait)
        arrival.append(a)
        sums += times
        steps += 1
        commBytes += bytes
    }

    /// Adds the monitor's own time to the window's.
    func addOverhead(_ seconds: Double) { overhead += seconds }

    static let fixed = 13

    /// Gathers the window from every rank (a collective) and starts the next. On rank 0 returns
    /// the per-rank figures and, when one rank is consistently late, the log line naming it;
    /// elsewhere `nil`.
    func reduce(_ comm: any Communicator, offsets: ClockOffsets, step: Int, clock: () -> Double)
        throws -> (ranks: [RankFigures], straggler: (JSON, String)?)? {
        let now = clock()
        let r = ResourceSample.now()
        let k = 1 / Double(max(steps, 1))   // per-step means, seconds (us() makes µs)
        var mine: [Int64] = [Int64(steps), us((sums.total - sums.commWait) * k), us(sums.commWait * k),
                             us(sums.data * k), us((sums.forward + sums.teacher) * k), us(sums.backward * k), us(sums.optimizer * k),
                             r.rssBytes, r.peakRSSBytes, r.threads,
                             Int64(((r.cpuSeconds - startCPU) / max(now - startWall, 1e-9) * 1000).rounded()),
                             Int64(commBytes / max(steps, 1)), us(overhead * k)]
        for i in 0..<steps { mine.append(us(compute[i])); mine.append(us(arrival[i])) }
        let width = mine.count
        var all = mine
        if comm.size > 1 {
            all = [Int64](repeating: 0, count: width * comm.size)
            try mine.withUnsafeBufferPointer { p in try all.withUnsafeMutableBufferPointer { try comm.allGather(p, into: $0) } }
        }
        let n = steps
        compute.removeAll(keepingCapacity: true)
        arrival.removeAll(keepingCapacity: true)
        sums = StepTimes()
        steps = 0
        commBytes = 0
        overhead = 0
        startWall = clock()
        startCPU = ResourceSample.now().cpuSeconds
        guard comm.rank == 0 else { return nil }

        let size = comm.size
        func at(_ rank: Int, _ i: Int) -> Int64 { all[rank * width + i] }
        var figures = (0..<size).map { rank in
            RankFigures(rank: rank, computeMs: ms(at(rank, 1)), waitMs: ms(at(rank, 2)), lateMs: 0,
                        dataMs: ms(at(rank, 3)), forwardMs: ms(at(rank, 4)), backwardMs: ms(at(rank, 5)), optimizerMs: ms(at(rank, 6)),
                        rssBytes: at(rank, 7), peakRSSBytes: at(rank, 8), threads: at(rank, 9),
                        cpuUtilisation: Double(at(rank, 10)) / 1000, commBytes: at(rank, 11), monitorMs: ms(at(rank, 12)))
        }
        for i in 0..<n {
            // Arrivals on rank 0's clock, in seconds.
            let arrivals = (0..<size).map { Double(at($0, Self.fixed + 2 * i + 1)) * 1e-6 - offsets.seconds[$0] }
            let first = arrivals.min() ?? 0
            var lastRank = 0
            for rank in 0..<size {
                figures[rank].lateMs += (arrivals[rank] - first) * 1000 / Double(max(n, 1))
                if arrivals[rank] > arrivals[lastRank] { lastRank = rank }
            }
            history.append((compute: (0..<size).map { Double(at($0, Self.fixed + 2 * i)) * 1e-6 }, last: lastRank))
        }
        if history.count > window { history.removeFirst(history.count - window) }
        return (figures, size > 1 ? straggler(size: size, step: step) : nil)
    }

    /// The consistently late rank over the history, with its JSON summary and log line.
    private func straggler(size: Int, step: Int) -> (JSON, String)? {
        let h = history.count
        guard h >= min(window, 5) else { return nil }
        let totals = (0..<size).map { rank in history.reduce(0.0) { $0 + $1.compute[rank] } }
        var best: (rank: Int, ratio: Double)?
        for rank in 0..<size {
            let others = (0..<size).filter { $0 != rank }.map { totals[$0] }
            let med = median(others)
            guard med > 0 else { continue }
            let q = totals[rank] / med
            // More than `ratio` times the others, and more than 0.2 ms a step (timer noise).
            guard q > ratio, (totals[rank] - med) / Double(h) > 2e-4 else { continue }
            if best == nil || q > best!.ratio { best = (rank, q) }
        }
        guard let b = best else { return nil }
        let lastFraction = Double(history.filter { $0.last == b.rank }.count) / Double(h)
        guard lastFraction >= 0.5 else { return nil }
        let json = JSON.object(JSONObject([
            ("rank", .number(Double(b.rank), isInteger: true)),
            ("compute_ratio", .number((b.ratio * 100).rounded() / 100, isInteger: false)),
            ("last_arrival_fraction", .number((lastFraction * 100).rounded() / 100, isInteger: false)),
            ("steps", .number(Double(h), isInteger: true)),
        ]))
        var line: String?
        if namedAt[b.rank].map({ step - $0 >= window }) ?? true {
            namedAt[b.rank] = step
            line = "straggler: rank \(b.rank): compute \(String(format: "%.1f", b.ratio))x the median over the last \(h) steps"
                + " (last to arrive at the gradient exchange in \(Int((lastFraction * 100).rounded()))% of them)"
        }
        return (json, line ?? "")
    }

    private func us(_ s: Double) -> Int64 { Int64((s * 1e6).rounded()) }
    private func ms(_ v: Int64) -> Double { Double(v) / 1000 }

    private func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        if s.isEmpty { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// The `ranks` array of a train line.
    static func json(_ figures: [RankFigures], resources: Bool) -> JSON {
        func num(_ x: Double) -> JSON { .number((x * 1000).rounded() / 1000, isInteger: false) }
        return .array(figures.map { f in
            var o = JSONObject([("rank", .number(Double(f.rank), isInteger: true)),
                                ("compute_ms", num(f.computeMs)), ("wait_ms", num(f.waitMs)), ("late_ms", num(f.lateMs)),
                                ("data_ms", num(f.dataMs)), ("forward_ms", num(f.forwardMs)),
                                ("backward_ms", num(f.backwardMs)), ("optimizer_ms", num(f.optimizerMs)),
                                ("monitor_ms", num(f.monitorMs))])
            if resources {
                o["rss_mb"] = num(Double(f.rssBytes) / 1_048_576)
                o["peak_rss_mb"] = num(Double(f.peakRSSBytes) / 1_048_576)
                o["cpu_util"] = num(f.cpuUtilisation)
                o["threads"] = .number(Double(f.threads), isInteger: true)
                o["comm_bytes"] = .number(Double(f.commBytes), isInteger: true)
            }
            return .object(o)
        })
    }
}
