import Foundation
import Testing
import SwCheckpoint
import SwComm
import SwNN
import SwTensor
import _TestSupport
@testable import SwTrain

/// Quantization-aware training (`quantization.aware`): fake quantization changes training,
/// the observers agree across rank counts, and a stopped run resumes byte-identically.
@Suite(.serialized, .enabled(if: TrainJobs.canRun, "mpirun or the swtrain executable is missing: QAT runs skipped"))
struct QuantizationAwareTrainingTests {
    static let section = #", "quantization": {"aware": true, "start_step": 3, "observer": "ema", "freeze_observers_step": 15}}"#

    static func config(maxSteps: Int = 20) -> String {
        let base = TrainJobs.config(optimizer: #"{"type": "adam", "lr": 0.01}"#, maxSteps: maxSteps)
        return base[..<base.lastIndex(of: "}")!] + section
    }

    @Test func fakeQuantizationTrainsAndChangesTheModel() throws {
        let c = try TrainConfig.parse(text: Self.config())
        let plainConfig = try TrainConfig.parse(text: TrainJobs.config(optimizer: #"{"type": "adam", "lr": 0.01}"#, maxSteps: 20))
        let qat = try Trainer(config: c, comm: LocalCommunicator()), plain = try Trainer(config: plainConfig, comm: LocalCommunicator())
        let hook = try #require(qat.postUpdateHooks.first as? QuantizationAwareTraining)
        #expect(hook.layers.map(\.path) == ["0", "2"])
        let start = try qat.evaluate(qat.test!).loss
        while qat.step < 20 { _ = try qat.trainStep(); _ = try plain.trainStep() }
        #expect(try qat.evaluate(qat.test!).loss < start)
        for (_, f) in hook.layers { #expect(f.hasRange && f.enabled && !f.observing && f.low <= 0 && f.high > 0) }
        #expect(qat.model.parameters.values.array != plain.model.parameters.values.array)
        // The forward really is fake-quantized: switching it off changes the outputs.
        let x = Tensor(shape: [5, 40], values: (0..<200).map { Float($0 % 17) / 5 - 1.5 })
        let on = qat.model.forward(x, training: false).array
        for (_, f) in hook.layers { f.enabled = false }
        #expect(qat.model.forward(x, training: false).array != on)
    }

    /// np=1 and np=2 learn the same ranges (min / max all-reduced) and nearly the same weights.
    @Test func observersAgreeAcrossRankCounts() throws {
        let folder = try TrainJobs.folder(config: Self.config())
        defer { TrainJobs.remove(folder) }
        for (run, ranks) in [("one", 1), ("two", 2)] {
            let r = try TrainJobs.train(folder, run: run, ranks: ranks)
            try #require(r.status == 0, "np=\(ranks): \(r.stderr)")
        }
        let a = try SafeTensorsFile(path: try #require(try TrainJobs.latest("\(folder)/one")).checkpoint.filePath("hooks.safetensors"))
        let b = try SafeTensorsFile(path: try #require(try TrainJobs.latest("\(folder)/two")).checkpoint.filePath("hooks.safetensors"))
        let ra = try a.floats("quantization.ranges"), rb = try b.floats("quantization.ranges")
        #expect(TrainJobs.relativeError(ra, rb) <= 1e-5, "ranges \(ra) vs \(rb)")
        let wa = try TrainJobs.tensors("\(folder)/one"), wb = try TrainJobs.tensors("\(folder)/two")
        for (name, ref) in wa { #expect(TrainJobs.relativeError(ref, wb[name] ?? []) <= 1e-3, "\(name)") }
    }

    /// Stopped after 10 of 20 steps and resumed, a QAT run ends with the bytes of an
    /// uninterrupted one (weights, optimizer state, observer ranges), at np=1 and np=2.
    @Test(arguments: [1, 2])
    func resumeIsByteIdentical(ranks: Int) throws {
        let folder = try TrainJobs.folder(config: Self.config())
        defer { TrainJobs.remove(folder) }
        let full = try TrainJobs.train(folder, run: "full", ranks: ranks)
        try #require(full.status == 0, "\(full.stderr)")
        let stop = try TrainJobs.train(folder, run: "resumed", ranks: ranks, ["--stop-after", "10"])
        try #require(stop.status == 0, "\(stop.stderr)")
        let resumed = try TrainJobs.train(folder, run: "resumed", ranks: ranks, ["--resume", "latest"])
        try #require(resumed.status == 0, "\(resumed.stderr)")
        for file in ["model.safetensors", "optimizer.safetensors", "hooks.safetensors"] {
            let a = try TrainJobs.latestBytes("\(folder)/full", file), b = try TrainJobs.latestBytes("\(folder)/resumed", file)
            #expect(a == b, "np=\(ranks) \(file) differs after resume")
        }
    }

    @Test func pipelineStagesAreAConfigError() throws {
        let text = Self.config().replacingOccurrences(of: #""name": "dp-test","#, with: #""name": "dp-test", "parallel": {"pipeline_stages": 2},"#)
        #expect { _ = try TrainConfig.parse(text: text) } throws: { "\($0)".contains("quantization.aware") }
    }
}
