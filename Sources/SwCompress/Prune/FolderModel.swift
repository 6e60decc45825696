import Foundation
import SwConfig
import SwNN
import SwTrain

extension CompressedModelFolder {
    /// The folder's model for inference: built from `config.json`'s `model` section alone (so
    /// sections of the training config this build does not read are no obstacle), loaded from
    /// `model.safetensors`, with the CSR kernel on the layers `compression.json` chose for it
    /// and the int8 layers fused (`Int8Fusion`).
    public func loadInferenceModel() throws -> Model {
        let path = file(Self.configFile)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CompressError("\(path): cannot read the file\n  hint: give a folder written by swtrain prune, quantize or lowrank")
        }
        let doc = try ConfigValue.parse(text, file: path)
        guard case .object(let root) = doc.json, case .object(var m)? = root["model"] else {
            throw CompressError("\(path): no model object")
        }
        m["init_from"] = nil
        let model = try Model(config: ConfigValue(.object(m), path: "model", file: path))
        try InitFrom.load(model, from: file(Self.modelFile))
        try SparseInference.apply(model, paths: Set(SparseInference.chosenPaths(folder: self.path)))
        try Int8Fusion.apply(model)
        return model
    }

    /// Whether the model runs any `SparseDense` (CSR) layer.
    public static func usesCSR(_ model: Model) -> Bool {
        model.network.descendants.contains { $0.layer is SparseDense }
    }
}
