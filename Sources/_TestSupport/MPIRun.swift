import Foundation

/// Spawns built executables of this package, alone or under `mpirun`, for multi-rank and
/// end-to-end tests (SwCommTests runs `swtrain-commcheck`, SwTrainTests runs `swtrain`).
public enum MPIRun {
    /// What a finished (or killed) run left behind.
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var seconds: Double
        public var timedOut: Bool
        /// True when the process ended by a signal (`status` is then the signal number).
        public var signaled: Bool
    }

    /// `mpirun` on PATH, or nil (multi-rank tests are then skipped).
    public static let mpirun: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/mpirun"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// The executable `name` built next to the running test bundle, or nil.
    public static func executable(_ name: String) -> String? {
        var dirs: [URL] = []
        // The test runner lives in the build products folder (…/debug/swtrainPackageTests.xctest).
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            dirs.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        dirs.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        dirs.append(Bundle.main.bundleURL.deletingLastPathComponent())
        // Fallback: <package>/.build/debug from this source file's location.
        let package = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        dirs.append(package.appendingPathComponent(".build/debug"))
        for dir in dirs {
            let candidate = dir.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The environment for a child: this process's, without the `OMPI_*`/`PMIX_*` variables
    /// an MPI process carries (a child mpirun seeing them exits 1 silently), plus the settings
    /// that make local runs fast and root-safe, plus `extra`.
    public static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_")
        }
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env["OMPI_MCA_pml"] = "ob1"
        env["OMPI_MCA_btl"] = "self,vader"
        env["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
        env["OPENBLAS_NUM_THREADS"] = "1"
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// Runs `mpirun -np ranks <program> arguments...` (`program` found by `executable(_:)`),
    /// killing it after `timeout` s. `ranks == 0` runs the program alone, without mpirun.
    public static func run(ranks: Int, program: String = "swtrain-commcheck", _ arguments: [String] = [],
                           timeout: Double = 60, environment extra: [String: String] = [:]) throws -> Result {
        let process = try start(ranks: ranks, program: program, arguments, environment: extra)
        let child = process.process
        let start = Date()
        var timedOut = false
        while child.isRunning {
            if Date().timeIntervalSince(start) > timeout {
                timedOut = true
                child.terminate()          // mpirun forwards SIGTERM to its ranks
                Thread.sleep(forTimeInterval: 2)
                if child.isRunning { kill(child.processIdentifier, SIGKILL) }
                break
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        var r = process.wait()
        r.timedOut = timedOut
        return r
    }

    /// A started child whose output goes to temporary files.
    public final class Running {
        public let process: Process
        let dir: URL
        let out: FileHandle, err: FileHandle
        let start = Date()

        init(process: Process, dir: URL, out: FileHandle, err: FileHandle) {
            self.process = process
            self.dir = dir
            self.out = out
            self.err = err
        }

        /// What the child printed so far on stdout.
        public var stdoutSoFar: String {
            (try? String(contentsOf: dir.appendingPathComponent("stdout"), encoding: .utf8)) ?? ""
        }

        /// Waits for the child to end and collects its output.
        public func wait() -> Result {
            process.waitUntilExit()
            let seconds = Date().timeIntervalSince(start)
            try? out.close()
            try? err.close()
            defer { try? FileManager.default.removeItem(at: dir) }
            return Result(status: process.terminationStatus,
                          stdout: (try? String(contentsOf: dir.appendingPathComponent("stdout"), encoding: .utf8)) ?? "",
                          stderr: (try? String(contentsOf: dir.appendingPathComponent("stderr"), encoding: .utf8)) ?? "",
                          seconds: seconds, timedOut: false,
                          signaled: process.terminationReason == .uncaughtSignal)
        }
    }

    /// Starts `program` (under `mpirun -np ranks`, or alone when `ranks == 0`) and returns at once.
    /// A `program` with a `/` is a path; otherwise it is found by `executable(_:)`.
    public static func start(ranks: Int, program: String, _ arguments: [String],
                             environment extra: [String: String] = [:]) throws -> Running {
        guard let exe = program.contains("/") ? program : executable(program) else {
            throw RunError(description: "\(program) not found next to the test bundle; build it first: swift build --build-tests")
        }
        let process = Process()
        if ranks > 0 {
            guard let mpirun else { throw RunError(description: "mpirun is not on PATH") }
            process.executableURL = URL(fileURLWithPath: mpirun)
            process.arguments = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "\(ranks)", exe] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: exe)
            process.arguments = arguments
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swtrain-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let outURL = dir.appendingPathComponent("stdout"), errURL = dir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        process.environment = environment(extra)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Running(process: process, dir: dir, out: out, err: err)
    }

    /// A child that could not be started.
    public struct RunError: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }
}
