import Foundation

/// Spawns `mpirun` on the built `swtrain-commcheck` for multi-rank tests.
enum MPIRun {
    /// What a finished (or killed) run left behind.
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var seconds: Double
        var timedOut: Bool
    }

    /// `mpirun` on PATH, or nil (multi-rank tests are then skipped).
    static let mpirun: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/mpirun"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// The `swtrain-commcheck` executable built next to this test bundle, or nil.
    static let commcheck: String? = {
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
            let candidate = dir.appendingPathComponent("swtrain-commcheck").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// The environment for a child `mpirun`: this process's, without the `OMPI_*`/`PMIX_*`
    /// variables an MPI process carries (a child mpirun seeing them exits 1 silently), plus the
    /// settings that make local runs fast and root-safe.
    static func environment() -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_")
        }
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env["OMPI_MCA_pml"] = "ob1"
        env["OMPI_MCA_btl"] = "self,vader"
        env["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
        env["OPENBLAS_NUM_THREADS"] = "1"
        return env
    }

    /// Runs `mpirun -np ranks swtrain-commcheck arguments...`, killing it after `timeout` s.
    static func run(ranks: Int, _ arguments: [String] = [], timeout: Double = 60) throws -> Result {
        guard let mpirun else { throw RunError(description: "mpirun is not on PATH") }
        guard let commcheck else {
            throw RunError(description: "swtrain-commcheck not found next to the test bundle; "
                + "build it first: swift build --build-tests")
        }
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("swtrain-commcheck-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("stdout"), errURL = dir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: mpirun)
        process.arguments = ["--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)", commcheck] + arguments
        process.environment = environment()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let start = Date()
        try process.run()
        var timedOut = false
        while process.isRunning {
            if Date().timeIntervalSince(start) > timeout {
                timedOut = true
                process.terminate()          // mpirun forwards SIGTERM to its ranks
                Thread.sleep(forTimeInterval: 2)
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                break
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(start)
        try out.close()
        try err.close()
        return Result(status: process.terminationStatus,
                      stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "",
                      seconds: seconds, timedOut: timedOut)
    }

    struct RunError: Error, CustomStringConvertible {
        let description: String
    }
}
