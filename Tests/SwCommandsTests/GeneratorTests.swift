import Foundation
import Testing
import SwCheckpoint
import SwComm
import SwConfig
import SwData
import SwNN
import SwTensor
import SwCommands
import SwTrain
import _TestSupport

/// A model over "abcde" whose next token is always the current one plus 1 (mod 5): one-hot
/// token embedding, zero positions, a dense layer scoring the successor 10.
func successorModel(T: Int) throws -> Model {
    let model = try Model(config: ConfigValue.parse(lmConfig(T: T, vocab: 5, layers: ""), file: nil))
    let p = model.parameters
    p.values.zero()
    let tok = p.value("0.tok.weight")!, w = p.value("1.weight")!
    for i in 0..<5 { tok[i, i] = 1; w[(i + 1) % 5, i] = 10 }
    return model
}

@Suite struct GeneratorTests {
    let abcde = Vocabulary(text: "abcde")

    @Test func greedyFollowsTheModelAndSlidesTheContext() throws {
        let g = try Generator(model: try successorModel(T: 4), vocabulary: abcde)
        #expect(try g.generate(prompt: "ab", tokens: 9, temperature: 0) == "cdeabcdea")
        // A prompt longer than the context keeps its last 4 characters.
        #expect(try g.generate(prompt: "eeeeeeeab", tokens: 3, temperature: 0) == "cde")
        // Sampling at a low temperature follows the same (dominant) successor.
        #expect(try g.generate(prompt: "a", tokens: 5, temperature: 0.1, seed: 3) == "bcdea")
    }

    @Test func seedsAreReproducible() throws {
        let model = try Model(config: ConfigValue.parse(lmConfig(T: 6, vocab: 5, layers: """
            , {"type": "transformer_block", "heads": 2}, {"type": "layernorm"}
            """), file: nil))
        model.initialize(seed: 11)
        let g = try Generator(model: model, vocabulary: abcde)
        let a = try g.generate(prompt: "abc", tokens: 40, temperature: 1, seed: 5)
        #expect(a.count == 40)
        #expect(try g.generate(prompt: "abc", tokens: 40, temperature: 1, seed: 5) == a)
        #expect(try g.generate(prompt: "abc", tokens: 40, temperature: 1, seed: 6) != a)
        let greedy = try g.generate(prompt: "abc", tokens: 20, temperature: 0, seed: 1)
        #expect(try g.generate(prompt: "abc", tokens: 20, temperature: 0, seed: 2) == greedy)
    }

    @Test func unknownPromptCharactersAreNamed() throws {
        let g = try Generator(model: try successorModel(T: 4), vocabulary: abcde)
        #expect {
            _ = try g.generate(prompt: "abxyx", tokens: 1)
        } throws: { e in
            guard let e = e as? ConfigError else { return false }
            return e.path == "--prompt" && e.message.contains("\"x\"") && e.message.contains("\"y\"")
        }
        #expect(throws: ConfigError.self) { try g.generate(prompt: "", tokens: 1) }
    }

    @Test func loadsARunFolder() throws {
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("swtrain-gen-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: run) }
        let ckpt = run + "/checkpoint-7"
        try FileManager.default.createDirectory(atPath: ckpt, withIntermediateDirectories: true)
        let model = try successorModel(T: 4)
        var w = SafeTensorsWriter()
        for e in model.parameters.entries { try w.add(e.name, model.parameters.value(e.name)!) }
        try w.write(to: ckpt + "/model.safetensors")
        try #"{"name": "t", "model": \#(lmConfig(T: 4, vocab: 5, layers: ""))}"#.write(toFile: run + "/config.json", atomically: true, encoding: .utf8)
        try abcde.jsonData().write(to: URL(fileURLWithPath: run + "/vocab.json"))
        let g = try GenerateCommand.load(checkpoint: ckpt, configPath: nil)
        #expect(try g.generate(prompt: "d", tokens: 3, temperature: 0) == "eab")
        let g2 = try GenerateCommand.load(checkpoint: ckpt + "/model.safetensors", configPath: nil)
        #expect(try g2.generate(prompt: "c", tokens: 2, temperature: 0) == "de")
    }
}
