import Foundation

/// How `swtrain quantize --mode static` picks an activation range from calibration data.
public enum ObserverKind: String, Sendable, CaseIterable {
    /// The smallest and largest value seen.
    case minmax
    /// The range over a histogram that minimises the expected quantization error (MSE).
    case histogram
    /// The `percentile` and `100 - percentile` points of the histogram.
    case percentile
}

/// Range selection over a histogram of activation values (`bins` equal bins over `[lo, hi]`,
/// counts summed over every rank, so the choice does not depend on the rank count).
public enum HistogramRange {
    /// The expected squared error of quantizing the histogram's values onto 256 levels of
    /// `[a, b]` (widened to hold 0): values outside are clamped (error = distance to the end),
    /// values inside are rounded (error ≈ step² / 12 for a value uniform within its step).
    /// Each bin's values are taken at its centre.
    public static func error(_ counts: [Double], lo: Double, hi: Double, a: Double, b: Double) -> Double {
        let w = (hi - lo) / Double(counts.count)
        let (l, h) = (min(a, 0), max(b, 0))
        let step = (h - l) / 255
        var e = 0.0
        for (i, n) in counts.enumerated() where n > 0 {
            let c = lo + (Double(i) + 0.5) * w
            if c < l { e += n * (c - l) * (c - l) } else if c > h { e += n * (c - h) * (c - h) } else { e += n * step * step / 12 }
        }
        return e
    }

    /// The bin-aligned range `[a, b]` minimising `error`, found by shrinking greedily from the
    /// full range (one bin at a time from the side whose cut lowers the error more), keeping the
    /// best range met.
    public static func minimisingMSE(_ counts: [Double], lo: Double, hi: Double) -> (Double, Double) {
        let n = counts.count
        guard n > 1, hi > lo else { return (lo, hi) }
        let w = (hi - lo) / Double(n)
        var (s, t) = (0, n - 1)                      // bins s...t kept
        func range(_ s: Int, _ t: Int) -> (Double, Double) { (lo + Double(s) * w, lo + Double(t + 1) * w) }
        var best = range(s, t)
        var bestError = error(counts, lo: lo, hi: hi, a: best.0, b: best.1)
        while t - s > 0 {
            let left = range(s + 1, t), right = range(s, t - 1)
            let el = error(counts, lo: lo, hi: hi, a: left.0, b: left.1)
            let er = error(counts, lo: lo, hi: hi, a: right.0, b: right.1)
            if el <= er { s += 1; if el < bestError { bestError = el; best = left } }
            else { t -= 1; if er < bestError { bestError = er; best = right } }
        }
        return best
    }

    /// The values below which `p` percent (`hi` side) and above which `p` percent (`lo`
    /// side) of the histogram's mass lies: `[q(100 - p), q(p)]`, at bin edges.
    public static func percentile(_ counts: [Double], lo: Double, hi: Double, p: Double) -> (Double, Double) {
        let total = counts.reduce(0, +)
        guard total > 0, hi > lo else { return (lo, hi) }
        let w = (hi - lo) / Double(counts.count)
        let tail = total * (100 - p) / 100
        var acc = 0.0, a = lo
        for (i, c) in counts.enumerated() {
            if acc + c > tail { a = lo + Double(i) * w; break }
            acc += c
        }
        acc = 0
        var b = hi
        for (i, c) in counts.enumerated().reversed() {
            if acc + c > tail { b = lo + Double(i + 1) * w; break }
            acc += c
        }
        return (a, max(a, b))
    }
}
