import Foundation
import SwConfig
import SwData
import SwNN
import SwTensor
import SwTrain

/// `swtrain predict CONFIG --checkpoint P --input x.npy --output y.npy`: the model's outputs
/// for every sample of an `.npy` array.
///
/// The input is `(N, sample...)` with `sample` the model's input shape (elements per sample
/// must match; any dtype `swtrain`'s npy reader accepts, converted to float32). The output is
/// float32 `(N, output...)`: the last layer's values (logits for a classifier), written as a
/// version 1.0 little-endian C-order `.npy`. Forward passes run in batches of `batch` rows.
public enum Predictor {
    public static func run(configPath: String, overrides: [String], checkpoint: String,
                           input: String, output: String, batch: Int = 256) throws {
        let config = try TrainConfig.load(path: configPath, overrides: overrides)
        let model = try Model(config: config.model)
        try InitFrom.load(model, from: checkpoint)
        // A pruned folder's compression.json may choose the CSR kernel for some dense layers.
        try SparseInference.apply(model, paths: Set(SparseInference.chosenPaths(folder: checkpoint)))
        try Int8Fusion.apply(model)
        guard let data = FileManager.default.contents(atPath: input) else {
            throw CompressError("\(input): cannot read the file: \(posixCause(input))\n  hint: give an .npy array of shape (N, \(model.inputShape.map(String.init).joined(separator: ", ")))")
        }
        let x: Tensor = try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws -> Tensor in
            let h = try NPYHeader(bytes: raw, file: input, role: "inputs")
            let per = Tensor.elementCount(model.inputShape)
            guard let n = h.shape.first, n > 0, h.count == n * per else {
                throw CompressError("\(input): shape \(h.shape) does not hold samples of the model's input shape \(model.inputShape)\n  hint: the array must be (N, \(model.inputShape.map(String.init).joined(separator: ", ")))")
            }
            let t = Tensor(zeros: [n] + model.inputShape)
            h.readFloats(raw, into: t.pointer)
            return t
        }
        let n = x.shape[0], per = x.count / n
        let outPer = Tensor.elementCount(model.outputShape)
        var y = [Float](repeating: 0, count: n * outPer)
        var start = 0
        while start < n {
            let m = min(batch, n - start)
            let xb = Tensor(viewing: x.pointer + start * per, shape: [m] + model.inputShape, owner: x)
            let out = model.forward(xb, training: false)
            y.withUnsafeMutableBufferPointer { ($0.baseAddress! + start * outPer).update(from: out.pointer, count: m * outPer) }
            start += m
        }
        try writeNPY(y, shape: [n] + model.outputShape, to: output)
    }

    /// Writes float32 `values` of `shape` as a version 1.0 `.npy` file.
    public static func writeNPY(_ values: [Float], shape: [Int], to path: String) throws {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
        let len = UInt16(header.utf8.count)
        bytes += [UInt8(len & 0xFF), UInt8(len >> 8)]
        bytes += Array(header.utf8)
        values.withUnsafeBytes { bytes += $0 }
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw CompressError("\(path): cannot write the file\n  hint: check that the folder exists and is writable")
        }
    }
}
