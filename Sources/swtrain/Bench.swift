import ArgumentParser
import SwCommands
import SwTrain

/// `swtrain bench gemm|allreduce|step`.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks, each against a raw peer measured in the same run.",
        subcommands: [GEMM.self, AllReduce.self, Step.self, Infer.self, Peak.self])

    struct Output: ParsableArguments {
        @Flag(help: "Print one JSON object per line (bench, case, median_ms, peer, peer_median_ms, ratio, ...).")
        var json = false

        func emit(_ rows: [BenchRow]) {
            for r in rows { print(json ? r.jsonLine : r.tableLine) }
        }
    }

    struct GEMM: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Dense layer forward+backward, and its forward and input-gradient GEMMs, vs raw cblas_sgemm (OpenBLAS).")

        @OptionGroup var output: Output

        @Option(help: "BLAS threads.")
        var threads = 1

        @Option(name: .customLong("batch"), parsing: .upToNextOption, help: "Batch rows (one or more; default 64 128, with --int8 1 32 256).")
        var batches: [Int] = []

        @Option(parsing: .upToNextOption, help: "Layer widths.")
        var widths: [Int] = [256, 1024, 2048]

        @Option(help: "Timed repeats per case (0: chosen by size).")
        var repeats = 0

        @Flag(help: "The int8 GEMM (every available path: amx, vnni, portable; and a dynamic-int8 forward) against fp32 sgemm (own kernel, BLAS.gemm, OpenBLAS) for the MLP shapes 1024x1024, 40->1024, 1024->10; batches default to 1 32 256.")
        var int8 = false

        @Flag(help: "The bf16 GEMM with fp32 accumulation (every available path: avx512bf16, portable; AMX is not implemented) against fp32 (BLAS.gemm, OpenBLAS) for a 1024x1024 dense layer's forward, input- and weight-gradient products and the char GPT's layer products; batches default to 32 256; --threads sets the pool and OpenBLAS threads.")
        var bf16 = false

        func validate() throws {
            if int8 && bf16 { throw ValidationError("--int8 and --bf16 are separate benches: pass one") }
            guard threads >= 1, batches.allSatisfy({ $0 >= 1 }), repeats >= 0, widths.allSatisfy({ $0 >= 1 }) else {
                throw ValidationError("threads, batch and widths must be positive, repeats >= 0")
            }
        }

        func run() throws {
            if bf16 {
                output.emit(GEMMBench.runBF16(batches: batches.isEmpty ? [32, 256] : batches, threads: threads, repeats: repeats))
                return
            }
            if int8 {
                output.emit(GEMMBench.runInt8(batches: batches.isEmpty ? [1, 32, 256] : batches, threads: threads, repeats: repeats))
                return
            }
            output.emit(GEMMBench.run(widths: widths, batches: batches.isEmpty ? [64, 128] : batches, threads: threads, repeats: repeats))
        }
    }

    struct AllReduce: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "allreduce",
            abstract: "The trainer's bucketed gradient sync vs one raw MPI_Allreduce (needs mpirun).",
            discussion: "launch/mpirun -np 2 swtrain bench allreduce --max-mb 16")

        @OptionGroup var output: Output

        @Option(help: "Largest case in MiB (cases: 4 KB, 64 KB, 1 MB, 16 MB, 64 MB).")
        var maxMb = 64

        @Option(help: "Timed repeats per case (default: chosen by size).")
        var repeats: Int?

        @Option(help: "Bucket size in MiB (parallel.bucket_mb).")
        var bucketMb = 4.0

        func validate() throws {
            guard maxMb >= 1, repeats.map({ $0 >= 1 }) ?? true, bucketMb > 0 else {
                throw ValidationError("max-mb, repeats and bucket-mb must be positive")
            }
        }

        func run() throws {
            let (rows, isRoot) = try AllReduceBench.run(maxMB: maxMb, repeats: repeats, bucketMB: bucketMb)
            if isRoot { output.emit(rows) }
        }
    }

    struct Peak: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The measured fp32 FMA peak of one core, and the dense-layer GEMMs (forward, input and weight gradient) as a fraction of it, vs cblas_sgemm.")

        @OptionGroup var output: Output

        @Option(help: "Layer width (the weight is width x width).")
        var width = 1024

        @Option(help: "Batch rows.")
        var batch = 128

        func validate() throws {
            guard width >= 1, batch >= 1 else { throw ValidationError("width and batch must be positive") }
        }

        func run() throws {
            output.emit(PeakBench.run(width: width, batch: batch))
        }
    }

    struct Step: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time whole training steps of a config: data, forward, backward, comm wait, optimizer.",
            discussion: "Under mpirun every rank trains and rank 0 prints: launch/mpirun -np 4 swtrain bench step CONFIG")

        @OptionGroup var output: Output

        @Argument(help: "The JSON config file.")
        var config: String

        @Option(name: .customLong("set"), parsing: .singleValue, help: "Override a config field (repeatable).")
        var overrides: [String] = []

        @Option(help: "Timed steps.")
        var steps = 200

        @Option(help: "Compute threads per process (sets training.threads; default: cores / ranks on the node).")
        var threads: Int?

        @Option(help: "Untimed warm-up steps.")
        var warmup = 20

        func validate() throws {
            guard steps >= 1, warmup >= 0 else { throw ValidationError("steps must be positive, warmup >= 0") }
            if let t = threads, !(1...256).contains(t) { throw ValidationError("--threads must be in 1...256, got \(t)") }
        }

        func run() throws {
            let (report, isRoot) = try StepBench.run(configPath: config, overrides: overrides + (threads.map { ["training.threads=\($0)"] } ?? []), steps: steps, warmup: warmup)
            if isRoot { print(output.json ? report.jsonLine : report.table) }
        }
    }
}
