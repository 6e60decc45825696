import Foundation
import SwConfig
import SwData
import SwNN
import SwTrain

/// `swtrain generate CHECKPOINT --prompt TEXT --tokens N --temperature T --seed S [--config C]`.
///
/// `CHECKPOINT` is a checkpoint folder, its `model.safetensors`, or a run folder (its newest
/// complete checkpoint). The run folder is the checkpoint folder's parent: the model is built
/// from the `model` section of its `config.json` (or of `--config`), and the vocabulary read
/// from its `vocab.json` (or one next to `--config`); without a vocab.json, when the config
/// (`--config`, else the run's) loads and its `data.train` is a text source, the vocabulary is
/// rebuilt from that text.
public enum GenerateCommand {
    public static func run(checkpoint: String, prompt: String, tokens: Int, temperature: Double,
                           seed: UInt64, configPath: String?) throws {
        let generator = try load(checkpoint: checkpoint, configPath: configPath)
        let text = try generator.generate(prompt: prompt, tokens: tokens, temperature: temperature, seed: seed)
        print(prompt + text)
    }

    /// The generator for a checkpoint: its model (built from the run's config.json or
    /// `configPath`, parameters from model.safetensors) and its vocabulary.
    public static func load(checkpoint: String, configPath: String?) throws -> Generator {
        let modelPath = try EvalCommand.modelFile(checkpoint)
        let runFolder = (((modelPath as NSString).deletingLastPathComponent) as NSString).deletingLastPathComponent
        let config = configPath ?? (runFolder as NSString).appendingPathComponent("config.json")
        let document = try readConfig(config)
        guard case .object(let top) = document.json else { throw document.fail("a config object with a \"model\" section") }
        let model = try Model(config: try ConfigObject(object: top, path: "", file: config).required("model", "the model section"))
        try model.loadParameters(from: modelPath)
        let vocabulary = try findVocabulary(runFolder: runFolder, configPath: configPath)
        return try Generator(model: model, vocabulary: vocabulary)
    }

    /// The config document at `path`, with errors naming the file.
    static func readConfig(_ path: String) throws -> ConfigValue {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            let cause = FileManager.default.contents(atPath: path) == nil ? posixCause(path) : "it is not UTF-8 text"
            throw ConfigError(file: path, path: "", message: "cannot read the config: \(cause)",
                              hint: "the run folder (the checkpoint folder's parent) holds config.json; or pass --config")
        }
        return try ConfigValue.parse(text, file: path)
    }

    /// vocab.json in the run folder, or next to `--config`, or rebuilt from the config's text data.
    static func findVocabulary(runFolder: String, configPath: String?) throws -> Vocabulary {
        var candidates = [(runFolder as NSString).appendingPathComponent("vocab.json")]
        if let configPath {
            candidates.append((((configPath as NSString).deletingLastPathComponent) as NSString).appendingPathComponent("vocab.json"))
        }
        for c in candidates where FileManager.default.fileExists(atPath: c) {
            return try Vocabulary.load(path: c)
        }
        let config = configPath ?? (runFolder as NSString).appendingPathComponent("config.json")
        if let loaded = try? TrainConfig.load(path: config), case .text(let path, _, _, _) = loaded.data.train {
            FileHandle.standardError.write(Data("swtrain: note: no vocab.json; rebuilding the vocabulary from \(path)\n".utf8))
            return try TextDataset(path: path, context: 1, validationFraction: 0).vocabulary
        }
        throw RuntimeError("no vocab.json in \(candidates.joined(separator: " or "))\n  hint: pass --config with the training config (its text data rebuilds the vocabulary)")
    }
}
