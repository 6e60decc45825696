import Foundation
import Testing
import SwCheckpoint
import _TestSupport

/// Static calibration under mpirun: each rank observes its chunks, min/max and histograms are
/// all-reduced, so `swtrain quantize --mode static` writes the same file on 1 and on 2 ranks.
@Suite(.serialized, .enabled(if: MPIRun.mpirun != nil, "mpirun is not on PATH: multi-rank tests skipped"))
struct QuantizeMPITests {
    @Test(arguments: ["minmax", "histogram"])
    func calibratedScalesDoNotDependOnTheRankCount(observer: String) throws {
        let dir = try LowRankFolderTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (config, checkpoint) = try LowRankFolderTests.trained(dir)
        var files: [SafeTensorsFile] = []
        for ranks in [1, 2] {
            let out = dir + "/np\(ranks)"
            // 600 samples: chunks of 256, 256, 88 — rank 1 of 2 sees only the middle one.
            let r = try MPIRun.run(ranks: ranks, program: "swtrain",
                                   ["quantize", config, "--checkpoint", checkpoint, "--out", out, "--mode", "static",
                                    "--observer", observer, "--calibration-samples", "600", "--batch", "2"], timeout: 120)
            try #require(r.status == 0, "np=\(ranks): exit \(r.status)\n\(r.stderr)")
            files.append(try SafeTensorsFile(path: out + "/model.safetensors"))
        }
        for layer in ["0", "2.layers.0", "3", "5"] {
            let s1 = try files[0].floats(layer + ".input_scale"), s2 = try files[1].floats(layer + ".input_scale")
            let z1 = try files[0].values(layer + ".input_zero_point", as: Int32.self), z2 = try files[1].values(layer + ".input_zero_point", as: Int32.self)
            #expect(s1 == s2, "layer \(layer): input scale \(s1) vs \(s2)")
            #expect(z1 == z2, "layer \(layer): zero point \(z1) vs \(z2)")
            #expect(s1[0] > 0)
        }
        #expect(try files[0].bytes("5.weight") == files[1].bytes("5.weight"))
    }
}
