import Foundation
import Testing
import SwCheckpoint
import SwComm
import SwCompress
import SwConfig
import SwNN
import SwTrain

/// `swtrain quantize --mode static` on a quantization-aware checkpoint uses the ranges the
/// training learned, not a fresh calibration.
@Suite struct QATQuantizeTests {
    @Test func staticQuantizationUsesTheLearnedRanges() throws {
        let dir = try LowRankFolderTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = LowRankFolderTests.config.replacingOccurrences(of: #""training": {"#, with: #""quantization": {"aware": true, "start_step": 5}, "training": {"#)
        try text.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        let c = try TrainConfig.load(path: dir + "/config.json", overrides: ["checkpoint.dir=\"\(dir)/run\""])
        let t = try Trainer(config: c, comm: LocalCommunicator())
        while t.step < 30 { _ = try t.trainStep() }
        let checkpoint = try #require(try t.saveCheckpoint())
        let hook = try #require(t.postUpdateHooks.first as? QuantizationAwareTraining)
        var o = QuantizeOptions(activations: .static)
        o.latencyBatches = [2]
        try QuantizeCompression.run(configPath: dir + "/config.json", overrides: [], checkpoint: checkpoint, outDir: dir + "/int8", options: o, log: { _ in })
        let f = try SafeTensorsFile(path: dir + "/int8/model.safetensors")
        for (path, fq) in hook.layers {
            let p = fq.activationParameters
            #expect(try f.floats(path + ".input_scale") == [p.scale], "layer \(path)")
            #expect(try f.values(path + ".input_zero_point", as: Int32.self) == [p.zeroPoint], "layer \(path)")
        }
        let report = try String(contentsOfFile: dir + "/int8/compression.json", encoding: .utf8)
        #expect(report.contains("\"ranges_from\": \"quantization-aware training\""))
    }
}
