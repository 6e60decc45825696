import ArgumentParser
import SwCommands

/// `swtrain report RUN_DIR [--out report.html]`.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a run folder's metrics as one self-contained HTML page with plots.")

    @Argument(help: "A run folder (checkpoint.dir), a `lowrank --out` folder or a study folder.")
    var runDir: String

    @Option(help: ArgumentHelp("The HTML file to write (default RUN_DIR/report.html).", valueName: "FILE"))
    var out: String?

    func run() throws {
        do {
            print(try ReportCommand.run(directory: runDir, out: out))
        } catch let e as ReportError {
            throw ValidationError(e.description)
        }
    }
}
