import Foundation
import SwComm
import SwConfig
import SwTensor
import SwTrain

/// `swtrain bench step CONFIG`: times whole optimizer steps of a config (after warm-up) and
/// reports where the time goes: data, forward, backward, comm wait, optimizer (medians over
/// the steps of each part; for each figure the slowest rank's median), the step's wall time
/// and samples/s (global batch / median step). Under mpirun every rank trains, rank 0 prints.
/// No checkpoint, metrics or evaluation: only `Trainer.trainStep()`.
/// It also counts the model's GEMM work (`StepFlops`) and reports forward and backward
/// GFLOP/s, and, measured after the steps in the same process, OpenBLAS `cblas_sgemm` and
/// `BLAS.gemm` at the model's main GEMM shape with the kernel path `BLAS.gemm` takes there.
public enum StepBench {
    /// The figures of one run (identical on every rank after the reductions).
    public struct Report: Sendable {
        public var config: String
        public var ranks: Int
        public var steps: Int
        public var globalBatch: Int
        /// Median milliseconds: data, forward, backward, comm_wait, optimizer, step.
        public var medians: [(String, Double)]
        public var stepMs: Double
        public var samplesPerSecond: Double
        /// Gradient bytes each rank handed to all-reduce per step.
        public var commBytes: Int
        /// Compute threads per process and the kernel path ("avx512" or "portable").
        public var threads: Int = 1
        public var kernels: String = "portable"
        /// `training.precision`, and for bf16 the GEMM path (`BF16GEMM.path`, "avx512bf16" or "portable").
        public var precision: GEMMPrecision = .fp32
        public var bf16Path: String?
        /// The start-up line (`Trainer.threadsLine`).
        public var threadsLine: String = ""
        /// GEMM work per step of this rank's batch.
        public var flops = StepFlops()
        /// At the main GEMM shape, in this run: OpenBLAS sgemm and `BLAS.gemm` GFLOP/s, and
        /// the kernel `BLAS.gemm` runs there.
        public var peerSgemmGflops = 0.0
        public var ownGemmGflops = 0.0
        public var gemmPath = ""

        func medianMs(_ part: String) -> Double { medians.first { $0.0 == part }?.1 ?? 0 }
        /// GEMM GFLOP/s of the forward and backward medians.
        public var forwardGflops: Double { flops.forward / max(medianMs("forward"), 1e-9) / 1e6 }
        public var backwardGflops: Double { flops.backward / max(medianMs("backward"), 1e-9) / 1e6 }
        var mainShape: String { "\(flops.mainShape.m)x\(flops.mainShape.n)x\(flops.mainShape.k)" }

        /// One JSON object in the `swtrain bench` line format. There is no peer yet (PyTorch
        /// DDP is optional and not wired): `peer`, `peer_median_ms` and `ratio` are null.
        public var jsonLine: String {
            var o = JSONObject([("bench", .string("step")), ("case", .string("\(config)/np\(ranks)")),
                                ("median_ms", .number(round4(stepMs), isInteger: false)),
                                ("peer", .null), ("peer_median_ms", .null), ("ratio", .null)])
            for (k, v) in medians where k != "step" { o["\(k)_ms"] = .number(round4(v), isInteger: false) }
            o["samples_per_sec"] = .number(samplesPerSecond.rounded(), isInteger: false)
            o["ranks"] = .number(Double(ranks), isInteger: true)
            o["steps"] = .number(Double(steps), isInteger: true)
            o["global_batch"] = .number(Double(globalBatch), isInteger: true)
            o["comm_bytes"] = .number(Double(commBytes), isInteger: true)
            o["threads"] = .number(Double(threads), isInteger: true)
            o["kernels"] = .string(kernels)
            o["precision"] = .string(precision.rawValue)
            if let bf16Path { o["bf16_gemm"] = .string(bf16Path) }
            let num = { (x: Double) in JSON.number((x * 10).rounded() / 10, isInteger: false) }
            o["forward_gflop"] = num(flops.forward / 1e9)
            o["backward_gflop"] = num(flops.backward / 1e9)
            o["forward_gflops"] = num(forwardGflops)
            o["backward_gflops"] = num(backwardGflops)
            o["main_gemm"] = .string(mainShape)
            o["gemm_path"] = .string(gemmPath)
            o["gemm_gflops"] = num(ownGemmGflops)
            o["peer_sgemm_gflops"] = num(peerSgemmGflops)
            return JSON.object(o).serialized()
        }

        /// A readable breakdown.
        public var table: String {
            var s = "bench step \(config): \(ranks) rank\(ranks == 1 ? "" : "s"), \(steps) steps, global batch \(globalBatch)\n"
            for (k, v) in medians {
                let share = k == "step" ? "" : String(format: "  %5.1f%%", 100 * v / max(stepMs, 1e-12))
                s += "  \(pad(k, 10)) \(String(format: "%9.3f", v)) ms\(share)\n"
            }
            s += "  samples/s  \(Int(samplesPerSecond.rounded()))   comm bytes/step \(commBytes)\n"
            s += String(format: "  GEMM work  forward %.2f GFLOP at %.1f GFLOP/s, backward %.2f GFLOP at %.1f GFLOP/s\n",
                        flops.forward / 1e9, forwardGflops, flops.backward / 1e9, backwardGflops)
            s += String(format: "  main GEMM  %@ (X Wᵀ) on %@: %.1f GFLOP/s; OpenBLAS sgemm %.1f GFLOP/s (same run)\n",
                        mainShape, gemmPath, ownGemmGflops, peerSgemmGflops)
            s += "  \(threadsLine)"
            return s
        }
    }

    /// Runs `warmup` then `steps` steps of the config at `configPath`. Returns the report and
    /// whether this process should print it (rank 0).
    public static func run(configPath: String, overrides: [String], steps: Int, warmup: Int) throws -> (Report, Bool) {
        let config = try TrainCommand.loadConfig(configPath, overrides: overrides)
        let comm = try Launch.worldCommunicator()
        do {
            let trainer = try Trainer(config: config, comm: comm)
            for _ in 0..<warmup { _ = try trainer.trainStep() }
            var parts: [[Double]] = Array(repeating: [], count: 6)
            var bytes = 0
            for _ in 0..<steps {
                let t0 = monotonicSeconds()
                let r = try trainer.trainStep()
                let wall = monotonicSeconds() - t0
                let t = r.times
                for (i, v) in [t.data, t.forward, t.backward, t.commWait, t.optimizer, wall].enumerated() { parts[i].append(v) }
                bytes = r.commBytes
            }
            var medians = parts.map { median($0) * 1000 }
            try medians.withUnsafeMutableBufferPointer { try comm.allReduce($0, op: .max) }
            let names = ["data", "forward", "backward", "comm_wait", "optimizer", "step"]
            let replicas = max(1, comm.size / config.parallel.pipelineStages)   // data-parallel ranks
            let flops = StepFlops(model: trainer.model, batch: config.training.batchSize / replicas)
            let (m, n, k) = flops.mainShape
            let probe = m > 0 ? SGEMMProbe.measure(m: m, n: n, k: k) : nil
            let report = Report(config: config.name, ranks: comm.size, steps: steps, globalBatch: config.training.batchSize,
                                medians: Array(zip(names, medians)), stepMs: medians[5],
                                samplesPerSecond: Double(config.training.batchSize) / (medians[5] / 1000),
                                commBytes: bytes, threads: ThreadPool.threads,
                                kernels: BLAS.ownKernelsEnabled ? "avx512" : "portable",
                                precision: config.training.precision,
                                bf16Path: config.training.precision == .bf16 ? BF16GEMM.path.name : nil,
                                threadsLine: trainer.threadsLine,
                                flops: flops, peerSgemmGflops: probe?.peerGflops ?? 0, ownGemmGflops: probe?.ownGflops ?? 0,
                                gemmPath: probe?.path ?? "none")
            return (report, comm.rank == 0)
        } catch let e as CollectiveFailure {
            TrainCommand.reportOnce(e, comm)
        } catch {
            guard comm.size > 1 else { throw error }
            comm.fail(RuntimeError(TrainCommand.describe(error, step: nil)), code: error is ConfigError ? 2 : 1)
        }
    }
}
