import Foundation
import SwCheckpoint
import SwConfig
import SwNN

/// Why `model.init_from` could not start the model from saved weights. Each case names the
/// file (and the tensor, with the expected and the found shape).
public enum InitFromError: Error, Equatable, CustomStringConvertible {
    /// The path holds no weights: neither a safetensors file, nor a folder with
    /// `model.safetensors`, `latest` or a `checkpoint-<step>` folder.
    case noWeights(path: String, reason: String)
    /// The model has a tensor the file lacks.
    case missingTensor(file: String, tensor: String, expected: [Int])
    /// The file has a tensor the model lacks.
    case extraTensor(file: String, tensor: String, found: [Int])
    /// A tensor's shape differs from the model's.
    case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int])
    /// The file or the checkpoint could not be read (hashes, format, dtype).
    case unreadable(path: String, reason: String)

    public var description: String {
        let hint = "\n  hint: model.init_from must hold weights of exactly this model (same layers, same names and shapes)"
        switch self {
        case let .noWeights(path, reason):
            return "model.init_from: \(path): \(reason)\n  hint: give a .safetensors file, a checkpoint folder, or a run folder with checkpoints"
        case let .missingTensor(file, tensor, expected):
            return "model.init_from: \(file): no tensor '\(tensor)' (the model expects shape \(expected))" + hint
        case let .extraTensor(file, tensor, found):
            return "model.init_from: \(file): tensor '\(tensor)' (shape \(found)) is not in the model" + hint
        case let .shapeMismatch(file, tensor, expected, found):
            return "model.init_from: \(file): tensor '\(tensor)' has shape \(found), the model expects \(expected)" + hint
        case let .unreadable(path, reason):
            return "model.init_from: \(path): \(reason)"
        }
    }
}

/// `model.init_from`: a run starts from the weights of a safetensors file or a checkpoint
/// instead of its seeded initialisation (fine-tuning, or a compressed model's weights).
///
/// The path may be a `.safetensors` file, a folder holding `model.safetensors`, a checkpoint
/// folder (`checkpoint-<step>`, verified against its hashes), or a run folder (its `latest`
/// checkpoint, or the newest complete one). Names and shapes are checked strictly: every
/// tensor of the model must be in the file with its shape, and nothing else.
public enum InitFrom {
    /// Loads `model.initFrom` into `model` when the config set it (every rank reads the same file).
    public static func apply(to model: Model) throws {
        guard let path = model.initFrom else { return }
        try load(model, from: path)
    }

    /// Copies the weights at `path` into `model`'s parameters.
    public static func load(_ model: Model, from path: String) throws(InitFromError) {
        let file = try weightsFile(path)
        let weights: SafeTensorsFile
        do { weights = try SafeTensorsFile(path: file) } catch { throw .unreadable(path: file, reason: error.description) }
        let store = model.parameters
        var found: [String: [Int]] = [:]
        for e in weights.entries { found[e.name] = e.shape }
        for e in store.entries {
            guard let shape = found.removeValue(forKey: e.name) else {
                throw .missingTensor(file: file, tensor: e.name, expected: e.shape)
            }
            guard shape == e.shape else { throw .shapeMismatch(file: file, tensor: e.name, expected: e.shape, found: shape) }
        }
        if let extra = weights.entries.first(where: { found[$0.name] != nil }) {
            throw .extraTensor(file: file, tensor: extra.name, found: extra.shape)
        }
        let integers = model.integerParameterDTypes
        for e in store.entries {
            do { try weights.readParameter(e.name, into: store.value(e.name)!, integer: integers[e.name]) } catch { throw .unreadable(path: file, reason: error.description) }
        }
    }

    /// The safetensors file `path` stands for (see `InitFrom`).
    public static func weightsFile(_ path: String) throws(InitFromError) -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw .noWeights(path: path, reason: "no such file or folder")
        }
        guard isDir.boolValue else {
            // A model.safetensors inside a checkpoint folder is checked against that folder's hashes.
            let folder = (path as NSString).deletingLastPathComponent
            let state = ((folder.isEmpty ? "." : folder) as NSString).appendingPathComponent(CheckpointWriter.stateFileName)
            if FileManager.default.fileExists(atPath: state) {
                do { _ = try CheckpointReader.open(folder: folder.isEmpty ? "." : folder) } catch {
                    throw .unreadable(path: path, reason: "\(error)")
                }
            }
            return path
        }
        let direct = (path as NSString).appendingPathComponent(modelFile)
        let stateFile = (path as NSString).appendingPathComponent(CheckpointWriter.stateFileName)
        do {
            if FileManager.default.fileExists(atPath: stateFile) {
                return try CheckpointReader.open(folder: path).filePath(modelFile)    // a checkpoint folder: verified
            }
            if FileManager.default.fileExists(atPath: direct) { return direct }
            guard let resolution = try CheckpointReader(directory: path).resolve() else {
                throw InitFromError.noWeights(path: path, reason: "the folder holds no \(modelFile), no latest and no checkpoint-<step> folder")
            }
            if let f = resolution.fallback {
                let skipped = f.latestNamed.map { "\($0) (named by latest)" } ?? "latest"
                FileHandle.standardError.write(Data(
                    "swtrain: note: \(path): not using \(skipped): \(f.reason); using \(resolution.checkpoint.name) instead\n".utf8))
            }
            return resolution.checkpoint.filePath(modelFile)
        } catch let error as InitFromError {
            throw error
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
    }

    static let modelFile = "model.safetensors"

    /// `model` with a relative `init_from` made absolute against `baseDirectory` (the config
    /// file's folder), so the `config.json` a run writes finds the weights from any folder.
    /// A path that does not exist is a config error at `model.init_from`.
    public static func resolvingPath(in model: ConfigValue, baseDirectory: String) throws(ConfigError) -> ConfigValue {
        guard case .object(var object) = model.json, let raw = object["init_from"], case .string(let p) = raw else { return model }
        let joined = p.hasPrefix("/") ? p : (baseDirectory as NSString).appendingPathComponent(p)
        let absolute = joined.hasPrefix("/") ? joined : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(joined)
        let full = (absolute as NSString).standardizingPath
        guard FileManager.default.fileExists(atPath: full) else {
            throw ConfigError(file: model.file, path: model.path.isEmpty ? "init_from" : model.path + ".init_from",
                              message: "no such file or folder: \(full)",
                              hint: "relative paths resolve against the config file's folder (\(baseDirectory))")
        }
        object["init_from"] = .string(full)
        return ConfigValue(.object(object), path: model.path, file: model.file)
    }
}
