import ArgumentParser
import SwTrain

/// `swtrain bench gemm|allreduce|step`.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks, each against a raw peer measured in the same run.",
        subcommands: [GEMM.self])

    struct Output: ParsableArguments {
        @Flag(help: "Print one JSON object per line (DESIGN.md section 4).")
        var json = false

        func emit(_ rows: [BenchRow]) {
            for r in rows { print(json ? r.jsonLine : r.tableLine) }
        }
    }

    struct GEMM: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Dense layer forward+backward vs the same three GEMMs through raw cblas_sgemm.")

        @OptionGroup var output: Output

        @Option(help: "BLAS threads.")
        var threads = 1

        @Option(help: "Batch rows.")
        var batch = 128

        @Option(parsing: .upToNextOption, help: "Layer widths.")
        var widths: [Int] = [256, 1024, 2048]

        @Option(help: "Timed repeats per case (0: chosen by size).")
        var repeats = 0

        func validate() throws {
            guard threads >= 1, batch >= 1, repeats >= 0, widths.allSatisfy({ $0 >= 1 }) else {
                throw ValidationError("threads, batch and widths must be positive, repeats >= 0")
            }
        }

        func run() throws {
            output.emit(GEMMBench.run(widths: widths, batch: batch, threads: threads, repeats: repeats))
        }
    }
}
