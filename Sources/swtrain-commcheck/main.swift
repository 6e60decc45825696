// swtrain-commcheck: a multi-rank self-check of SwComm and SwParallel.
//
//   mpirun -np 4 swtrain-commcheck                 run every check; rank 0 prints `ok <name>`
//   mpirun -np 2 swtrain-commcheck --fail-rank 1   rank 1 throws; the job must end non-zero
//
// The bucket sync against raw MPI_Allreduce is timed by `swtrain bench allreduce`.
//
// Without mpirun it runs on a LocalCommunicator (size 1) and never initialises MPI.
import SwComm
#if canImport(Glibc)
import Glibc
#endif

/// Command-line options.
struct Options {
    var failRank: Int?

    init(_ args: ArraySlice<String>) {
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "--fail-rank": failRank = Options.number(it.next(), for: a)
            case "-h", "--help": Options.usage(nil)
            default: Options.usage("unknown argument '\(a)'")
            }
        }
    }

    static func number(_ text: String?, for flag: String) -> Int {
        guard let text, let n = Int(text), n >= 0 else { usage("\(flag) needs a number >= 0") }
        return n
    }

    static func usage(_ problem: String?) -> Never {
        let text = """
            usage: swtrain-commcheck [--fail-rank R]

            """
        if let problem {
            writeError("swtrain: error: swtrain-commcheck: \(problem)\n" + text)
            exit(2)
        }
        print(text, terminator: "")
        exit(0)
    }
}

func writeError(_ text: String) {
    fflush(nil)
    var bytes = Array(text.utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

let options = Options(CommandLine.arguments.dropFirst())
let comm: any Communicator
do {
    comm = try MPIRuntime.makeWorldCommunicator()
} catch {
    writeError("swtrain: error: \(error)\n")
    exit(1)
}

do {
    try runChecks(comm, failRank: options.failRank)
    try comm.barrier()
} catch {
    comm.fail(error)
}
MPIRuntime.finalize()
