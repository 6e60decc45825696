import ArgumentParser
import Foundation
import SwConfig
import SwCommands
import SwTrain

/// The `swtrain` command: train, evaluate, benchmark and inspect.
///
/// Exit codes: 0 success, 2 usage or configuration error, 1 runtime failure. Errors go to
/// stderr as `swtrain: error: <where>: <what>` followed by a hint.
@main
struct Swtrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swtrain",
        abstract: "Distributed training and model optimisation on CPU clusters (Open MPI).",
        discussion: """
            Single process:  swtrain train examples/quickstart.json
            Distributed:     mpirun -np 4 swtrain train examples/quickstart.json
            """,
        version: "0.1.0",
        subcommands: [Train.self, Eval.self, Bench.self, Inspect.self, Generate.self, Tune.self, LowRank.self, Prune.self, Quantize.self, Predict.self, Report.self, Autotune.self]
    )

    static func main() {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
        do {
            try command.run()
        } catch {
            Foundation.exit(CLIErrors.report(error))
        }
    }
}

/// Prints an error as `swtrain: error: <where>: <what>` plus a hint, and returns the exit code.
enum CLIErrors {
    static func report(_ error: any Error) -> Int32 {
        if Swtrain.exitCode(for: error) == .success { Swtrain.exit(withError: error) }
        let (text, code): (String, Int32)
        switch error {
        case let e as CollectiveFailure:
            if !e.report { return e.code }
            (text, code) = (e.description, e.code)
        case let e as ConfigError: (text, code) = (e.description, 2)
        case let e as ExitCode: return e.rawValue
        case let e as ValidationError: (text, code) = (e.message, 2)
        case let e as CustomStringConvertible: (text, code) = (e.description, 1)
        default: (text, code) = ("\(error)", 1)
        }
        FileHandle.standardError.write(Data("swtrain: error: \(text)\n".utf8))
        return code
    }
}
