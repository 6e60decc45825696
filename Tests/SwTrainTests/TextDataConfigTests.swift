import Foundation
import Testing
import SwComm
import SwConfig
import SwData
import SwTrain
import _TestSupport

@Suite struct TextDataConfigTests {
    func config(vocab: Int, _ text: String) throws -> (TrainConfig, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swtrain-text-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try text.write(toFile: dir + "/t.txt", atomically: true, encoding: .utf8)
        let json = """
            {"data": {"train": {"kind": "text", "path": "t.txt", "context": 4},
                      "test": {"kind": "text", "path": "t.txt", "context": 4, "split": "validation", "validation_fraction": 0.5}},
             "model": \(lmConfig(T: 4, vocab: vocab, layers: ", {\"type\": \"transformer_block\", \"heads\": 2}")),
             "training": {"batch_size": 4, "max_steps": 2},
             "checkpoint": {"dir": "\(dir)/run"}}
            """
        return (try TrainConfig.parse(text: json, baseDirectory: dir), dir)
    }

    @Test func trainsOnText() throws {
        let (c, dir) = try config(vocab: 9, "abcdefgh abcdefgh abcdefgh abcdefgh")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trainer = try Trainer(config: c, comm: LocalCommunicator())
        let text = try #require(trainer.train as? TextDataset)
        #expect(text.vocabulary.count == 9 && text.count == 32 - 4)
        let summary = try TrainingRun(trainer: trainer, plainProgress: true).run()
        #expect(summary.steps == 2 && summary.trainLoss.isFinite)
    }

    @Test func vocabularyTooSmallNamesTheEmbedding() throws {
        let (c, dir) = try config(vocab: 5, "abcdefgh abcdefgh")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect {
            _ = try Trainer(config: c, comm: LocalCommunicator())
        } throws: { e in
            guard let e = e as? ConfigError else { return false }
            return e.path == "model.layers[0].vocab" && e.message.contains("9 distinct characters")
        }
    }

    @Test func badTextSources() throws {
        for (source, path) in [(#"{"kind": "text", "path": "t.txt"}"#, "data.train.context"),
                               (#"{"kind": "text", "path": "t.txt", "context": 4, "split": "test"}"#, "data.train.split"),
                               (#"{"kind": "text", "path": "t.txt", "context": 4, "validation_fraction": 1}"#, "data.train.validation_fraction"),
                               (#"{"kind": "text", "path": "missing.txt", "context": 4}"#, "data.train.path")] {
            let dir = FileManager.default.temporaryDirectory.path
            try "abc".write(toFile: dir + "/t.txt", atomically: true, encoding: .utf8)
            let json = #"{"data": {"train": \#(source)}, "model": {"input": [4], "layers": [{"type": "dense", "units": 2}]}}"#
            #expect {
                _ = try TrainConfig.parse(text: json, baseDirectory: dir)
            } throws: { e in (e as? ConfigError)?.path == path }
        }
    }
}
