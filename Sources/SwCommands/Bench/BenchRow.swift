import SwConfig

/// One benchmark result, printed as a table row or, with `--json`, as the `swtrain bench` JSON
/// line: `{"bench", "case", "median_ms", "peer", "peer_median_ms", "ratio", ...}`
/// where ratio = peer time / our time (above 1: faster than the peer).
public struct BenchRow: Sendable {
    public var bench: String
    public var caseName: String
    public var medianMs: Double
    public var peer: String
    public var peerMedianMs: Double
    public var extra: [(String, Double)] = []
    /// The kernel that ran (`"path"` in JSON), when the bench names it.
    public var path: String?

    public var ratio: Double { peerMedianMs / medianMs }

    public init(bench: String, caseName: String, medianMs: Double, peer: String, peerMedianMs: Double, extra: [(String, Double)] = []) {
        self.bench = bench
        self.caseName = caseName
        self.medianMs = medianMs
        self.peer = peer
        self.peerMedianMs = peerMedianMs
        self.extra = extra
    }

    public var jsonLine: String {
        var o = JSONObject([
            ("bench", .string(bench)), ("case", .string(caseName)),
            ("median_ms", .number(round4(medianMs), isInteger: false)), ("peer", .string(peer)),
            ("peer_median_ms", .number(round4(peerMedianMs), isInteger: false)),
            ("ratio", .number(round4(ratio), isInteger: false)),
        ])
        for (k, v) in extra { o[k] = .number(round4(v), isInteger: false) }
        if let path { o["path"] = .string(path) }
        return JSON.object(o).serialized()
    }

    public var tableLine: String {
        let extras = extra.map { "\($0.0)=\(fmt($0.1))" }.joined(separator: " ")
        return "\(pad(caseName, 18)) ours \(pad(fmt(medianMs), 9)) ms   \(peer) \(pad(fmt(peerMedianMs), 9)) ms   ratio \(fmt(ratio))   \(extras)"
            + (path.map { "   path \($0)" } ?? "")
    }
}

func round4(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 }
func fmt(_ x: Double) -> String {
    let r = (x * 1000).rounded() / 1000
    return String(r)
}
func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
