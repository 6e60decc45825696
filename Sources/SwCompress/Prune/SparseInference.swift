import Foundation
import SwConfig
import SwNN
import SwTensor

/// Which forward a pruned folder's dense layers use at inference: the CSR kernel
/// (`SparseDense`) for the layers whose unstructured sparsity reaches `minSparsity` and where
/// it measured faster than the dense GEMM at every stated batch size, the dense GEMM
/// elsewhere. Recorded in `compression.json` under `inference`; `swtrain bench infer
/// --compare DIR` and `swtrain predict ... --checkpoint DIR` read it back.
public enum SparseInference {
    /// How the kernel is chosen (`swtrain prune --sparse-kernel`).
    public enum Choice: String, Sendable, CaseIterable {
        /// CSR where measured faster, for layers at or above the minimum sparsity.
        case auto
        /// CSR for every layer at or above the minimum sparsity, unmeasured.
        case csr
        /// Always the dense GEMM.
        case dense
    }

    /// One layer's measurement: median ms of the dense and the CSR forward per batch.
    public struct Measurement: Sendable {
        public var path: String
        public var sparsity: Double
        public var batches: [Int]
        public var denseMs: [Double]
        public var csrMs: [Double]
        public var chosen: Bool
    }

    /// The dense layers of `model` at or above `minSparsity`, timed (dense vs CSR, alternating,
    /// median of `repeats` each, on random inputs), and the choice for each.
    public static func choose(_ model: Model, minSparsity: Double, batches: [Int], threads: Int, choice: Choice,
                              repeats: Int = 0) -> [Measurement] {
        guard choice != .dense else { return [] }
        BLAS.setThreads(threads)
        var out: [Measurement] = []
        for (path, layer) in model.network.descendants {
            guard let d = layer as? Dense, !(layer is SparseDense) else { continue }
            let w = d.parameterTensors[0]
            var zeros = 0
            for i in 0..<w.count where w.pointer[i] == 0 { zeros += 1 }
            let s = Double(zeros) / Double(w.count)
            guard s >= minSparsity else { continue }
            var m = Measurement(path: path, sparsity: s, batches: batches, denseMs: [], csrMs: [], chosen: choice == .csr)
            if choice == .auto {
                let sparse = SparseDense(Dense(inputShape: d.inputShape, units: d.outFeatures, bias: d.useBias))
                sparse.bind(parameters: d.parameterTensors, gradients: d.parameterTensors.map { Tensor(zeros: $0.shape) })
                var rng = RNG(seed: 7)
                for b in batches {
                    let x = Tensor(zeros: [b] + d.inputShape)
                    rng.fillUniform(x, -1, 1)
                    let reps = repeats > 0 ? repeats : max(10, min(200, 20_000 / b))
                    for _ in 0..<3 { _ = d.forward(x, training: false); _ = sparse.forward(x, training: false) }
                    var td: [Double] = [], ts: [Double] = []
                    for _ in 0..<reps {
                        td.append(InferenceBench.time { _ = d.forward(x, training: false) })
                        ts.append(InferenceBench.time { _ = sparse.forward(x, training: false) })
                    }
                    m.denseMs.append(InferenceBench.median(td) * 1e3)
                    m.csrMs.append(InferenceBench.median(ts) * 1e3)
                }
                m.chosen = zip(m.denseMs, m.csrMs).allSatisfy { $1 < $0 }
            }
            out.append(m)
        }
        return out
    }

    /// Swaps the dense layers at `paths` for `SparseDense` (values carried).
    public static func apply(_ model: Model, paths: Set<String>) throws {
        guard !paths.isEmpty else { return }
        try model.rewrite { path, layer in
            guard paths.contains(path), let d = layer as? Dense else { return nil }
            return SparseDense(Dense(inputShape: d.inputShape, units: d.outFeatures, bias: d.useBias))
        }
    }

    /// The CSR layer paths a folder's `compression.json` chose (empty without a choice).
    public static func chosenPaths(folder: String) -> [String] {
        let file = (folder as NSString).appendingPathComponent(CompressedModelFolder.reportFile)
        guard let text = try? String(contentsOfFile: file, encoding: .utf8), case .object(let r)? = try? JSON.parse(text),
              case .object(let inf)? = r["inference"], case .array(let layers)? = inf["csr_layers"] else { return [] }
        return layers.compactMap { if case .string(let s) = $0 { return s }; return nil }
    }

    /// The `inference` object of `compression.json`.
    static func report(_ ms: [Measurement], minSparsity: Double, choice: Choice, threads: Int) -> JSON {
        let chosen = ms.filter(\.chosen).map(\.path)
        let rows: [JSON] = ms.map { m in
            var o = JSONObject([("path", .string(m.path)), ("sparsity", .real(m.sparsity)), ("kernel", .string(m.chosen ? "csr" : "dense"))])
            if !m.denseMs.isEmpty {
                o["measured"] = .array(zip(m.batches, zip(m.denseMs, m.csrMs)).map { b, t in
                    .object(JSONObject([("batch", .int(b)), ("dense_ms", .real(t.0)), ("csr_ms", .real(t.1))]))
                })
            }
            return .object(o)
        }
        return .object(JSONObject([
            ("kernel", .string(chosen.isEmpty ? "dense" : "csr")),
            ("choice", .string(choice.rawValue)),
            ("min_sparsity", .real(minSparsity)),
            ("threads", .int(threads)),
            ("rule", .string("a dense layer at or above min_sparsity runs the CSR kernel where it measured faster than the dense GEMM at every batch")),
            ("csr_layers", .array(chosen.map { .string($0) })),
            ("layers", .array(rows)),
        ]))
    }
}
