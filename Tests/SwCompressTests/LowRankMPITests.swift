import Foundation
import Testing
import SwCheckpoint
import _TestSupport

/// Calibration under mpirun: each rank observes its shard and the sums are all-reduced, so
/// `swtrain lowrank --activation-aware` gives the same factors on 1 and on 2 ranks.
@Suite(.serialized, .enabled(if: MPIRun.mpirun != nil, "mpirun is not on PATH: multi-rank tests skipped"))
struct LowRankMPITests {
    @Test func activationAwareFactorsDoNotDependOnTheRankCount() throws {
        let dir = try LowRankFolderTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (config, checkpoint) = try LowRankFolderTests.trained(dir)
        var products: [[[Float]]] = []
        for ranks in [1, 2] {
            let out = dir + "/np\(ranks)"
            let r = try MPIRun.run(ranks: ranks, program: "swtrain",
                                   ["lowrank", config, "--checkpoint", checkpoint, "--out", out, "--rank", "9",
                                    "--activation-aware", "--calibration-samples", "201", "--batch", "2"], timeout: 120)
            try #require(r.status == 0, "np=\(ranks): exit \(r.status)\n\(r.stderr)")
            let f = try SafeTensorsFile(path: out + "/model.safetensors")
            // up · down of each factorized layer (independent of the singular vectors' signs).
            products.append(try ["0", "2.layers.0", "3"].map { name in
                let d = try f.tensor(name + ".0.weight"), u = try f.tensor(name + ".1.weight")
                let (o, r, i) = (u.shape[0], u.shape[1], d.shape[1])
                var m = [Float](repeating: 0, count: o * i)
                for a in 0..<o { for j in 0..<i { var s: Float = 0; for k in 0..<r { s += u.array[a * r + k] * d.array[k * i + j] }; m[a * i + j] = s } }
                return m
            })
        }
        for (a, b) in zip(products[0], products[1]) {
            let diff = zip(a, b).map { abs($0 - $1) }.max()!, scale = a.map { abs($0) }.max()!
            #expect(diff <= 1e-5 * scale, "max difference \(diff) of \(scale)")
        }
    }
}
