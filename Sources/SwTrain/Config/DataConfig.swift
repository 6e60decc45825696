import Foundation
import SwConfig

/// `data`: {"train": SOURCE, "test": SOURCE}. A source is one of
/// - `{"kind": "mnist1d", "split": "train"|"test", "samples": 5000, "seed": 42}` (built in);
/// - `{"kind": "npy", "inputs": "x.npy", "labels": "y.npy"}` (or one `.npz` with `"inputs"`
///   and `"labels"` naming arrays inside it);
/// - `{"kind": "csv", "path": "d.csv", "label_column": "label", "header": true, "delimiter": ","}`;
/// - `{"kind": "text", "path": "t.txt", "context": 64, "split": "train"|"validation",
///   "validation_fraction": 0.1}` (character-level language modelling, see `TextDataset`).
/// Relative paths resolve against the config file's folder; a missing file is an error here,
/// before any training starts.
///
/// `"prefetch"`: batches gathered ahead on a worker thread while the step computes
/// (`PrefetchingLoader`): an integer 0...8 or a bool (`true` is 1); 0 by default. It does not
/// change what is trained (the batches are bit-identical), so it is written to `config.json`
/// only when not 0 and configs without it keep their hash.
public struct DataConfig: Sendable {
    public var train: DataSource
    public var test: DataSource?
    /// Batches gathered ahead (0: each batch is gathered on the training thread when needed).
    public var prefetch: Int
    var json: JSON

    init(_ v: ConfigValue, baseDirectory: String) throws(ConfigError) {
        let o = try v.object(allowed: ["train", "test", "prefetch"])
        train = try DataSource(o.required("train", "a data source like {\"kind\": \"mnist1d\", \"split\": \"train\"}"), baseDirectory: baseDirectory)
        test = try o["test"].map { v throws(ConfigError) in try DataSource(v, baseDirectory: baseDirectory) }
        if let p = o["prefetch"], case .bool(let on) = p.json {
            prefetch = on ? 1 : 0
        } else if let p = o["prefetch"] {
            prefetch = try p.int(in: 0...8, "true, false or the batches to gather ahead, 0...8")
        } else {
            prefetch = 0
        }
        var out = JSONObject([("train", train.json)])
        if let test { out["test"] = test.json }
        if prefetch > 0 { out["prefetch"] = .number(Double(prefetch), isInteger: true) }
        json = .object(out)
    }
}

/// One data source of the `data` section (see `DataConfig`).
public enum DataSource: Sendable {
    case mnist1d(split: String, samples: Int, seed: UInt64)
    case npy(inputs: String, labels: String, inputsKey: String?, labelsKey: String?)
    case csv(path: String, labelColumn: String, header: Bool, delimiter: String)
    case text(path: String, context: Int, split: String, validationFraction: Double)

    var json: JSON {
        switch self {
        case .mnist1d(let split, let samples, let seed):
            return .object(JSONObject([("kind", .string("mnist1d")), ("split", .string(split)),
                                       ("samples", .number(Double(samples), isInteger: true)),
                                       ("seed", .number(Double(seed), isInteger: true))]))
        case .npy(let inputs, let labels, let ik, let lk):
            var o = JSONObject([("kind", .string("npy")), ("inputs", .string(inputs)), ("labels", .string(labels))])
            if let ik { o["inputs_key"] = .string(ik) }
            if let lk { o["labels_key"] = .string(lk) }
            return .object(o)
        case .csv(let path, let col, let header, let delimiter):
            return .object(JSONObject([("kind", .string("csv")), ("path", .string(path)),
                                       ("label_column", .string(col)), ("header", .bool(header)),
                                       ("delimiter", .string(delimiter))]))
        case .text(let path, let context, let split, let fraction):
            return .object(JSONObject([("kind", .string("text")), ("path", .string(path)),
                                       ("context", .number(Double(context), isInteger: true)),
                                       ("split", .string(split)), ("validation_fraction", .number(fraction, isInteger: false))]))
        }
    }

    init(_ v: ConfigValue, baseDirectory: String) throws(ConfigError) {
        guard case .object(let raw) = v.json else { throw v.fail("a data source object with a \"kind\"") }
        let kind = try ConfigObject(object: raw, path: v.path, file: v.file).string("kind", oneOf: ["mnist1d", "npy", "csv", "text"])
        func file(_ o: ConfigObject, _ key: String) throws(ConfigError) -> String {
            let p = try o.string(key)
            // Absolute, so the config.json a run saves still finds its data from any folder.
            let joined = p.hasPrefix("/") ? p : (baseDirectory as NSString).appendingPathComponent(p)
            let absolute = joined.hasPrefix("/") ? joined : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(joined)
            let full = (absolute as NSString).standardizingPath
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDir) else {
                throw ConfigError(file: v.file, path: "\(v.path).\(key)", message: "no such file: \(full)",
                                  hint: "relative paths resolve against the config file's folder (\(baseDirectory))")
            }
            guard !isDir.boolValue else {
                throw ConfigError(file: v.file, path: "\(v.path).\(key)", message: "\(full) is a directory, expected a file",
                                  hint: "name the data file inside it")
            }
            return full
        }
        switch kind {
        case "mnist1d":
            let o = try v.object(allowed: ["kind", "split", "samples", "seed"])
            self = .mnist1d(split: try o.string("split", default: "train", oneOf: ["train", "test"]),
                            samples: try o.int("samples", default: 5000, in: 10...10_000_000),
                            seed: UInt64(try o.int("seed", default: 42, in: 0...Int.max)))
        case "npy":
            let o = try v.object(allowed: ["kind", "inputs", "labels", "inputs_key", "labels_key"])
            self = .npy(inputs: try file(o, "inputs"), labels: try file(o, "labels"),
                        inputsKey: try o.optionalString("inputs_key"), labelsKey: try o.optionalString("labels_key"))
        case "text":
            let o = try v.object(allowed: ["kind", "path", "context", "split", "validation_fraction"])
            self = .text(path: try file(o, "path"), context: try o.int("context", in: 1...Int.max),
                         split: try o.string("split", default: "train", oneOf: ["train", "validation"]),
                         validationFraction: try o.double("validation_fraction", default: 0.1,
                                                          "a fraction from 0 up to (not including) 1") { $0 >= 0 && $0 < 1 })
        default:
            let o = try v.object(allowed: ["kind", "path", "label_column", "header", "delimiter"])
            let col: String
            if let c = o["label_column"], case .number = c.json {
                col = String(try c.int(in: 0...Int.max))
            } else {
                col = try o.string("label_column", default: "label")
            }
            let delimiter = try o.string("delimiter", default: ",")
            guard delimiter.utf8.count == 1, let d = delimiter.utf8.first, d < 128, d >= 32 || d == 9,
                  delimiter != "\"" else {
                throw ConfigError(file: v.file, path: v.path + ".delimiter",
                                  message: "expected one printable ASCII character or a tab, got \(JSON.quote(delimiter))",
                                  hint: "use \",\" (the default), \";\" or \"\\t\"")
            }
            self = .csv(path: try file(o, "path"), labelColumn: col, header: try o.bool("header", default: true),
                        delimiter: delimiter)
        }
    }
}
