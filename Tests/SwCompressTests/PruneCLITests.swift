import Foundation
import Testing
import SwComm
import SwTrain
import _TestSupport

/// The built `swtrain` next to the test bundle (or in .build/debug).
private let swtrainExecutable: String? = {
    var dirs: [URL] = []
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        dirs.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
    }
    let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    dirs.append(package.appendingPathComponent(".build/debug"))
    return dirs.map { $0.appendingPathComponent("swtrain").path }.first { FileManager.default.isExecutableFile(atPath: $0) }
}()

/// `swtrain prune` as a user runs it: bad arguments exit 2 with the reason; a structured
/// prune of a tiny trained model writes a folder that `swtrain eval DIR/config.json
/// --checkpoint DIR` evaluates.
@Suite(.serialized, .enabled(if: swtrainExecutable != nil, "the swtrain executable is not built"))
struct PruneCLITests {
    @Test(arguments: [
        (["--structured", "--keep-units", "4", "--scope", "global"], "--scope global applies to unstructured pruning"),
        (["--keep-units", "4"], "--keep-units needs --structured"),
        ([String](), "give --sparsity S"),
        (["--sparsity", "1.5"], "--sparsity must be in [0, 1]"),
        (["--structured", "--sparsity", "0.5", "--keep-units", "3"], "exactly one of --sparsity S"),
        (["--sparsity", "0.5", "--method", "random"], "--method must be 'magnitude'"),
    ] as [([String], String)])
    func badArgumentsExitTwoWithTheReason(extra: [String], message: String) throws {
        let r = try runProcess(swtrainExecutable!, ["prune", "c.json", "--checkpoint", "p", "--out", "o"] + extra)
        #expect(r.status == 2)
        #expect(r.stderr.contains(message), "\(r.stderr)")
    }

    @Test func structuredPruneWritesAFolderThatEvaluates() throws {
        let dir = try PruneFolderTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (config, checkpoint) = try PruneFolderTests.trained(dir)
        let p = try runProcess(swtrainExecutable!, ["prune", config, "--checkpoint", checkpoint, "--out", dir + "/u8",
                                                    "--structured", "--keep-units", "8", "--batch", "4"])
        #expect(p.status == 0, "\(p.stderr)")
        #expect(p.stdout.contains("0: 48 -> 8 units") && p.stdout.contains("wrote"), "\(p.stdout)")
        let e = try runProcess(swtrainExecutable!, ["eval", dir + "/u8/config.json", "--checkpoint", dir + "/u8"])
        #expect(e.status == 0, "\(e.stderr)")
        #expect(e.stdout.contains("accuracy"), "\(e.stdout)")
    }
}
