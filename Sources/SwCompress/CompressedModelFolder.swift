import Foundation
import SwCheckpoint
import SwConfig
import SwNN
import SwTrain

/// The folder a compression pass writes (low-rank, quantization; pruning writes the same):
///
/// - `config.json`: the complete training config of the compressed model, runnable as it is:
///   `model.layers` describes the compressed network and `model.init_from` is `"."` (the
///   folder itself, resolved against the config's folder), so `swtrain train DIR/config.json`
///   fine-tunes it and `swtrain eval DIR/config.json --checkpoint DIR` evaluates it;
/// - `model.safetensors`: the compressed model's parameters by their PyTorch names;
/// - `compression.json`: what was done and what it changed (`report`, written by the caller
///   once it has measured the compressed model; see docs/compress.md).
public struct CompressedModelFolder {
    public static let configFile = "config.json"
    public static let modelFile = "model.safetensors"
    public static let reportFile = "compression.json"

    public let path: String
    public init(path: String) { self.path = path }

    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Creates the folder and writes `config.json` (with `model.init_from` set to the folder)
    /// and `model.safetensors` from `model`'s parameters.
    public func write(config: JSON, model: Model, metadata: [String: String] = [:]) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw CompressError("\(path): cannot create the output folder: \(error.localizedDescription)\n  hint: check the path and its permissions")
        }
        guard case .object(var root) = config, case .object(var m)? = root["model"] else {
            throw CompressError("\(file(Self.configFile)): the config to write has no model object")
        }
        m["init_from"] = .string(".")
        root["model"] = .object(m)
        let text = JSON.object(root).serialized(pretty: true) + "\n"
        guard FileManager.default.createFile(atPath: file(Self.configFile), contents: Data(text.utf8)) else {
            throw CompressError("\(file(Self.configFile)): cannot write the file")
        }
        var w = SafeTensorsWriter(metadata: metadata)
        try w.addParameters(of: model)   // int8 layers' integer tensors as I8 / I32
        try w.write(to: file(Self.modelFile))
    }

    /// Writes `compression.json`.
    public func writeReport(_ report: JSON) throws {
        let text = report.serialized(pretty: true) + "\n"
        guard FileManager.default.createFile(atPath: file(Self.reportFile), contents: Data(text.utf8)) else {
            throw CompressError("\(file(Self.reportFile)): cannot write the file")
        }
    }

    /// Parameters, non-zero parameters of `model`.
    public static func counts(_ model: Model) -> (parameters: Int, nonZeros: Int) {
        let v = model.parameters.values
        var nz = 0
        for i in 0..<v.count where v.pointer[i] != 0 { nz += 1 }
        return (v.count, nz)
    }

    /// The size of the file at `path` in bytes (0 when it cannot be read).
    public static func fileBytes(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }
}

extension JSON {
    /// `.number` of an integer.
    static func int(_ v: Int) -> JSON { .number(Double(v), isInteger: true) }
    /// `.number` of a real, rounded to 6 significant decimals.
    static func real(_ v: Double) -> JSON { .number(v.isFinite ? Double(String(format: "%.6g", v))! : 0, isInteger: false) }
}
