import SwComm
import SwData
import SwNN
import SwTensor

/// Activation-range calibration of `swtrain quantize --mode static`, distributed so every rank
/// count gives the same ranges bit for bit.
///
/// The first `samples` training samples are cut into chunks of `batch` consecutive samples;
/// chunk `c` runs on rank `c % size`. Each chunk is one forward pass of the same samples at any
/// rank count, so every layer input is computed identically. Pass 1 all-reduces each watched
/// layer's min and max; `histogram` and `percentile` then run pass 2: a histogram of `bins`
/// bins over that agreed range, counts all-reduced (sums of integers: exact), and the range is
/// chosen from the summed histogram.
public enum QuantCalibration {
    /// Calls `observe(path, x)` with every watched layer's input (`(n, inputShape...)`, a view
    /// valid during the call) for this rank's chunks.
    public static func run(model: Model, paths: Set<String>, data: any Dataset, samples: Int, comm: any Communicator,
                           batch: Int = 256, observe: @escaping (_ path: String, _ x: Tensor) -> Void) throws {
        guard !paths.isEmpty else { return }
        var shapes: [String: [Int]] = [:]
        for p in paths { shapes[p] = model.network.layer(at: p)!.inputShape }
        let net = try model.network.rewritingChildren(path: "") { path, layer in
            paths.contains(path) ? Probe(layer, path: path) { p, rows in
                let shape = shapes[p]!
                observe(p, Tensor(viewing: rows.pointer, shape: [rows.count / Tensor.elementCount(shape)] + shape, owner: rows))
            } : nil
        }
        let n = min(samples, data.count)
        var start = comm.rank * batch
        while start < n {
            let m = min(batch, n - start)
            let (x, _) = data.batch(Array(start..<start + m))
            _ = net.forward(x, training: false)
            start += comm.size * batch
        }
    }

    /// The activation range `(lo, hi)` of each watched layer's input, chosen by `observer`.
    public static func ranges(model: Model, paths: [String], data: any Dataset, samples: Int, comm: any Communicator,
                              observer: ObserverKind, percentile: Double = 99.99, bins: Int = 2048) throws -> [String: (Double, Double)] {
        let index = Dictionary(uniqueKeysWithValues: paths.enumerated().map { ($1, $0) })
        var lo = [Double](repeating: .infinity, count: paths.count), hi = [Double](repeating: -.infinity, count: paths.count)
        try run(model: model, paths: Set(paths), data: data, samples: samples, comm: comm) { path, x in
            let i = index[path]!
            var (a, b) = (Float.infinity, -Float.infinity)
            for j in 0..<x.count { a = min(a, x.pointer[j]); b = max(b, x.pointer[j]) }
            lo[i] = min(lo[i], Double(a)); hi[i] = max(hi[i], Double(b))
        }
        try comm.allReduce(&lo, op: .min)
        try comm.allReduce(&hi, op: .max)
        for i in paths.indices where !(lo[i] <= hi[i]) { lo[i] = 0; hi[i] = 0 }   // no samples seen
        guard observer != .minmax else {
            return Dictionary(uniqueKeysWithValues: paths.enumerated().map { ($1, (lo[$0], hi[$0])) })
        }
        var counts = [Int64](repeating: 0, count: paths.count * bins)
        try run(model: model, paths: Set(paths), data: data, samples: samples, comm: comm) { path, x in
            let i = index[path]!
            let (l, h) = (lo[i], hi[i])
            guard h > l else { counts[i * bins] += Int64(x.count); return }
            let scale = Double(bins) / (h - l)
            for j in 0..<x.count {
                let b = min(bins - 1, max(0, Int((Double(x.pointer[j]) - l) * scale)))
                counts[i * bins + b] += 1
            }
        }
        try comm.allReduce(&counts, op: .sum)
        var out: [String: (Double, Double)] = [:]
        for (i, p) in paths.enumerated() {
            let c = counts[i * bins..<(i + 1) * bins].map(Double.init)
            out[p] = observer == .histogram ? HistogramRange.minimisingMSE(c, lo: lo[i], hi: hi[i])
                                            : HistogramRange.percentile(c, lo: lo[i], hi: hi[i], p: percentile)
        }
        return out
    }
}
