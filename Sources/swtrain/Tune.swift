import ArgumentParser
import SwTune

/// `swtrain tune STUDY.json [--resume]`.
struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search hyperparameters: run a study of training trials (under mpirun: trial groups in parallel).",
        discussion: """
            The study folder (dir, default studies/<name>) holds journal.log (an Optuna journal), \
            trials.csv, best.json and one run folder per trial. See docs/tune.md.
            """)

    @Argument(help: "The study file (JSON).")
    var study: String

    @Flag(help: "Continue the study in its folder: interrupted trials run again, finished ones are kept.")
    var resume = false

    func run() throws {
        try TuneCommand.run(studyPath: study, resume: resume)
    }
}
