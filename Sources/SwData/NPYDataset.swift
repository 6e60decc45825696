import Foundation
import SwTensor

/// A classification dataset read from numpy files: inputs of shape `(N, ...)` and integer
/// labels of shape `(N,)` or `(N, 1)`, either as two .npy files or as two arrays of one .npz
/// archive (`np.savez` or `np.savez_compressed`).
///
/// Inputs may be float32 (copied as they are), float64, float16, integers or bools (converted
/// to Float32); formats 1.0, 2.0 and 3.0, little-endian, C order. Each sample is reshaped to
/// `sampleShape` when the element counts match (a `(N, 40)` array feeds a model whose input is
/// `[1, 40]`); without `sampleShape` it keeps the array's trailing dimensions.
/// Labels are stored as Float class indices; `classes` defaults to the largest label + 1.
public final class NPYDataset: InMemoryDataset {
    /// Where the inputs came from (for messages).
    public let source: String

    /// Reads `inputs` and `labels` .npy files.
    public convenience init(inputs: String, labels: String, sampleShape: [Int]? = nil, classes: Int? = nil) throws(DataError) {
        let x = try readFileBytes(inputs)
        let y = try readFileBytes(labels)
        let parts = try withBytes(x) { (xb: UnsafeRawBufferPointer) throws(DataError) in
            try withBytes(y) { (yb: UnsafeRawBufferPointer) throws(DataError) in
                try NPYDataset.load(inputs: xb, inputsName: inputs, labels: yb, labelsName: labels,
                                    sampleShape: sampleShape, classes: classes)
            }
        }
        self.init(parts: parts, source: inputs)
    }

    /// Reads arrays `inputsKey` and `labelsKey` of a .npz archive (written by `np.savez`, or
    /// `np.savez_compressed`: deflated members are inflated in memory first).
    public convenience init(npz path: String, inputsKey: String = "x", labelsKey: String = "y",
                            sampleShape: [Int]? = nil, classes: Int? = nil) throws(DataError) {
        let data = try readFileBytes(path)
        let zip = try withBytes(data) { (bytes: UnsafeRawBufferPointer) throws(DataError) in try ZipArchive(bytes: bytes, file: path) }
        let x = try zip.contents(inputsKey, of: data, file: path)
        let y = try zip.contents(labelsKey, of: data, file: path)
        let parts = try withBytes(x) { (xb: UnsafeRawBufferPointer) throws(DataError) in
            try withBytes(y) { (yb: UnsafeRawBufferPointer) throws(DataError) in
                try NPYDataset.load(inputs: xb, inputsName: "\(path)[\(inputsKey)]", labels: yb, labelsName: "\(path)[\(labelsKey)]",
                                    sampleShape: sampleShape, classes: classes)
            }
        }
        self.init(parts: parts, source: path)
    }

    private init(parts: Parts, source: String) {
        self.source = source
        super.init(inputs: parts.inputs, sampleShape: parts.sampleShape, targets: parts.targets, targetShape: [],
                   classes: parts.classes)
    }

    private struct Parts {
        let inputs: Tensor, targets: Tensor, sampleShape: [Int], classes: Int
    }

    private static func load(inputs xb: UnsafeRawBufferPointer, inputsName: String,
                             labels yb: UnsafeRawBufferPointer, labelsName: String,
                             sampleShape: [Int]?, classes: Int?) throws(DataError) -> Parts {
        let xh = try NPYHeader(bytes: xb, file: inputsName, role: "inputs")
        let yh = try NPYHeader(bytes: yb, file: labelsName, role: "labels")
        guard let n = xh.shape.first else {
            throw .shapeMismatch(file: inputsName, fileShape: xh.shape, sampleShape: sampleShape ?? [])
        }
        guard n > 0 else { throw .empty(file: inputsName) }
        let fileSample = Array(xh.shape.dropFirst())
        let perSample = fileSample.reduce(1, *)
        guard perSample > 0 else {   // found by NPYFuzzTests: (N, 0) trapped in InMemoryDataset
            throw .badHeader(file: inputsName, reason: "shape \(xh.shape) gives samples of shape \(fileSample) with no values; each sample needs at least one")
        }
        let shape = sampleShape ?? (fileSample.isEmpty ? [1] : fileSample)
        guard shape.reduce(1, *) == perSample else {
            throw .shapeMismatch(file: inputsName, fileShape: xh.shape, sampleShape: shape)
        }
        guard yh.shape.count >= 1, yh.shape.dropFirst().allSatisfy({ $0 == 1 }) else {
            throw .badHeader(file: labelsName, reason: "labels must have shape (N,) or (N, 1), got \(yh.shape)")
        }
        guard yh.shape[0] == n else { throw .countMismatch(file: labelsName, inputs: n, labels: yh.shape[0]) }

        let labels = try yh.readLabels(yb, file: labelsName, classes: classes)
        let x = Tensor(zeros: [n] + shape)
        xh.readFloats(xb, into: x.pointer)
        let y = Tensor(zeros: [n])
        for i in 0..<n { y.pointer[i] = Float(labels[i]) }
        return Parts(inputs: x, targets: y, sampleShape: shape, classes: classes ?? (labels.max()! + 1))
    }
}
