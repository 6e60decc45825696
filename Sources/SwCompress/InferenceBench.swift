import Foundation
import SwComm
import SwCommands
import SwData
import SwNN
import SwTensor
import SwTrain

/// Forward-only latency of a model against a peer model on the same inputs, threads and run.
///
/// For each batch size the two models alternate (peer, model, peer, model, ...) over `repeats`
/// timed forward passes each, after `warmup` untimed ones, on the first `batch` samples of
/// `data` (cycled). The rows are the bench format: `median_ms` is `model`'s median,
/// `peer_median_ms` the peer's, `ratio` = peer / model (above 1: the model is faster), plus
/// `samples_per_s` and `peer_samples_per_s`. `threads` is both swtrain's pool (its own GEMM and
/// elementwise kernels) and OpenBLAS's thread count: with the pool left at its automatic size,
/// `--threads 1` timed a 2-thread pool whose fork-joins, on a loaded machine, cost more than
/// a factorized layer's GEMMs (the wide MLP at rank 64 measured 1.3x faster instead of 12x).
/// Both counts are restored on return; while it runs, the pool's count is its own
/// (`ThreadPool.exclusive`).
public enum InferenceBench {
    public static func run(model: Model, name: String, peer: Model?, peerName: String, data: any Dataset,
                           batches: [Int], threads: Int, repeats: Int = 0, warmup: Int = 3) -> [BenchRow] {
        ThreadPool.exclusive { timed(model: model, name: name, peer: peer, peerName: peerName, data: data,
                                     batches: batches, threads: threads, repeats: repeats, warmup: warmup) }
    }

    private static func timed(model: Model, name: String, peer: Model?, peerName: String, data: any Dataset,
                              batches: [Int], threads: Int, repeats: Int, warmup: Int) -> [BenchRow] {
        let blasBefore = BLAS.threads
        defer { BLAS.setThreads(blasBefore) }
        ThreadPool.setThreads(threads)
        BLAS.setThreads(threads)
        return batches.map { b in
            let (x, _) = data.batch((0..<b).map { $0 % data.count })
            let reps = repeats > 0 ? repeats : max(10, min(200, 20_000 / b))
            let a = peer ?? model
            for _ in 0..<warmup { _ = a.forward(x, training: false); _ = model.forward(x, training: false) }
            var tm: [Double] = [], tp: [Double] = []
            for _ in 0..<reps {
                tp.append(time { _ = a.forward(x, training: false) })
                tm.append(time { _ = model.forward(x, training: false) })
            }
            let (m, p) = (median(tm), median(tp))
            return BenchRow(bench: "infer", caseName: "\(name)-b\(b)-t\(threads)", medianMs: m * 1e3, peer: peer == nil ? name : peerName,
                            peerMedianMs: p * 1e3, extra: [("samples_per_s", Double(b) / m), ("peer_samples_per_s", Double(b) / p)])
        }
    }

    static func time(_ body: () -> Void) -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }

    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

extension InferenceBench {
    /// `swtrain bench infer`: the model of `configPath` with the weights at `checkpoint`, timed
    /// alone or, with `compare` (a `CompressedModelFolder`), as the peer of the folder's model,
    /// on the config's test samples (training samples when it has no test set).
    public static func run(configPath: String, overrides: [String], checkpoint: String, compare: String?,
                           batches: [Int], threads: Int, repeats: Int) throws -> [BenchRow] {
        let config = try TrainConfig.load(path: configPath, overrides: overrides)
        let trainer = try Trainer(config: config, comm: try MPIRuntime.makeWorldCommunicator())
        let original = trainer.model
        try InitFrom.load(original, from: checkpoint)
        let data = trainer.test ?? trainer.train
        guard let dir = compare else {
            return run(model: original, name: "model", peer: nil, peerName: "", data: data, batches: batches, threads: threads, repeats: repeats)
        }
        // The folder's model section alone (its `prune` section is a training matter), with the
        // CSR kernel where its compression.json chose it; the rows then say "compressed-csr".
        let compressed = try CompressedModelFolder(path: dir).loadInferenceModel()
        guard compressed.inputShape == original.inputShape, compressed.outputShape == original.outputShape else {
            throw CompressError("\(dir): the compressed model maps \(compressed.inputShape) -> \(compressed.outputShape), the original \(original.inputShape) -> \(original.outputShape)\n  hint: --compare must be a folder written from this config's model")
        }
        return run(model: compressed, name: CompressedModelFolder.usesCSR(compressed) ? "compressed-csr" : "compressed", peer: original, peerName: "original", data: data,
                   batches: batches, threads: threads, repeats: repeats)
    }
}
