import Foundation
import Testing
import SwCompress
import SwData
import SwNN
import SwTensor
import SwTrain

/// `swtrain predict`: outputs for an .npy of inputs equal the model's forward pass, and the
/// written file parses as .npy with the output shape.
@Suite struct PredictTests {
    @Test func outputsEqualTheForwardPassOfTheCheckpoint() throws {
        let dir = try LowRankFolderTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (config, checkpoint) = try LowRankFolderTests.trained(dir)
        let n = 300                                      // more than one batch of 256
        var rng = RNG(seed: 4)
        let x = (0..<n * 40).map { _ in rng.uniform(-3, 3) }
        try Predictor.writeNPY(x, shape: [n, 40], to: dir + "/x.npy")
        try Predictor.run(configPath: config, overrides: [], checkpoint: checkpoint, input: dir + "/x.npy", output: dir + "/y.npy")

        let bytes = try #require(FileManager.default.contents(atPath: dir + "/y.npy"))
        let got: [Float] = try bytes.withUnsafeBytes { raw in
            let h = try NPYHeader(bytes: raw, file: "y.npy", role: "inputs")
            #expect(h.shape == [n, 10])
            var v = [Float](repeating: 0, count: h.count)
            v.withUnsafeMutableBufferPointer { h.readFloats(raw, into: $0.baseAddress!) }
            return v
        }
        let model = try Model(config: TrainConfig.load(path: config).model)
        try InitFrom.load(model, from: checkpoint)
        let want = model.forward(Tensor(shape: [n, 40], values: x), training: false).array
        #expect(got.count == want.count)
        let err = zip(got, want).map { abs($0 - $1) }.max() ?? 1
        #expect(err < 1e-4, "max error \(err)")
    }
}
