import Foundation
import Testing
import _TestSupport

/// The built `swtrain` next to the test bundle.
let swtrainBinary: String? = {
    var dirs: [URL] = []
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        dirs.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
    }
    let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    dirs.append(package.appendingPathComponent(".build/debug"))
    return dirs.map { $0.appendingPathComponent("swtrain").path }.first { FileManager.default.isExecutableFile(atPath: $0) }
}()

/// Runs swtrain with `args`; returns exit status and stderr.
func runSwtrain(_ args: [String], cwd: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    try runProcess(swtrainBinary!, args, cwd: cwd)
}

@Suite(.enabled(if: swtrainBinary != nil, "the swtrain executable is not built"))
struct ConfigCLITests {
    @Test(arguments: [
        (["--set", "optimizer.lr=-1"], "optimizer.lr"),
        (["--set", "model.layers[0].type=\"dens\""], "model.layers[0].type"),
        (["--set", "training.batch_size=0"], "training.batch_size"),
        (["--set", "bogus=1"], "bogus"),
    ] as [([String], String)])
    func badConfigExitsTwoNamingThePath(extra: [String], path: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swtrain-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try baseConfig.write(toFile: dir + "/c.json", atomically: true, encoding: .utf8)
        let r = try runSwtrain(["train", dir + "/c.json"] + extra)
        #expect(r.status == 2, "status \(r.status): \(r.stderr)")
        #expect(r.stderr.hasPrefix("swtrain: error: \(dir)/c.json: \(path)"), "\(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"))
    }

    @Test func missingConfigFileExitsTwo() throws {
        let r = try runSwtrain(["train", "/nonexistent/config.json"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("/nonexistent/config.json: no such file"))
    }

    @Test func usageErrorExitsTwo() throws {
        let r = try runSwtrain(["train"])
        #expect(r.status == 2)
    }
}
