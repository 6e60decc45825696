import SwTensor

/// A finite, indexable set of (input, target) samples held in memory.
///
/// Layout contract: sample `i` is `sampleShape` Float32 values, row-major; its target is
/// `targetShape` values (`[]`, one value, for a class label stored as a Float class index).
/// `gather` copies whole samples into the rows of tensors the caller allocated once, so the
/// training loop never allocates to fetch a batch.
public protocol Dataset: AnyObject {
    /// Number of samples.
    var count: Int { get }
    /// Shape of one input sample (the model's input shape), e.g. `[40]` or `[1, 28, 28]`.
    var sampleShape: [Int] { get }
    /// Shape of one target; `[]` for a class label.
    var targetShape: [Int] { get }
    /// Number of classes when targets are class labels in `0..<classes`, else `nil`.
    var classes: Int? { get }
    /// Copies samples `indices[k]` into row `k` of `inputs` and `targets`.
    ///
    /// `inputs` must hold at least `indices.count * sampleShape` elements and `targets` at
    /// least `indices.count * targetShape` elements; elements past those rows are left
    /// untouched, so tensors sized for a full batch also serve a short last batch.
    func gather(_ indices: UnsafeBufferPointer<Int>, inputs: Tensor, targets: Tensor)
}

extension Dataset {
    /// Elements in one input sample.
    public var sampleSize: Int { Tensor.elementCount(sampleShape) }
    /// Elements in one target (1 for a class label).
    public var targetSize: Int { Tensor.elementCount(targetShape) }

    /// Convenience for tests and set-up code (allocates): gathers `indices` into new tensors
    /// of shapes `[n] + sampleShape` and `[n] + targetShape`.
    public func batch(_ indices: [Int]) -> (inputs: Tensor, targets: Tensor) {
        let x = Tensor(zeros: [indices.count] + sampleShape)
        let y = Tensor(zeros: [indices.count] + targetShape)
        indices.withUnsafeBufferPointer { gather($0, inputs: x, targets: y) }
        return (x, y)
    }
}

/// A dataset stored as two flat Float32 tensors: inputs `[count] + sampleShape` and targets
/// `[count] + targetShape`. Gathering a sample is one `memcpy` of its row.
///
/// The built-in datasets (`MNIST1D`, `NPYDataset`, `CSVDataset`) are subclasses that only
/// decide how the buffers are filled; it can also be built directly from arrays.
public class InMemoryDataset: Dataset {
    public let count: Int
    public let sampleShape: [Int]
    public let targetShape: [Int]
    public let classes: Int?
    /// All inputs, shape `[count] + sampleShape`.
    public let inputs: Tensor
    /// All targets, shape `[count] + targetShape`.
    public let targets: Tensor

    /// A dataset over `inputs` (a whole number of `sampleShape` samples) and `targets`
    /// (`count * targetShape` values). Class labels, when `classes` is given, must already
    /// lie in `0..<classes` (the loaders check it and throw `DataError`).
    public init(inputs: Tensor, sampleShape: [Int], targets: Tensor, targetShape: [Int] = [], classes: Int?) {
        let sampleSize = Tensor.elementCount(sampleShape)
        let targetSize = Tensor.elementCount(targetShape)
        precondition(sampleSize > 0, "InMemoryDataset: empty sample shape \(sampleShape)")
        let n = inputs.count / sampleSize
        precondition(n * sampleSize == inputs.count,
                     "InMemoryDataset: \(inputs.count) input values are not a whole number of samples of shape \(sampleShape)")
        precondition(targets.count == n * targetSize,
                     "InMemoryDataset: \(n) samples need \(n * targetSize) target values, got \(targets.count)")
        self.count = n
        self.sampleShape = sampleShape
        self.targetShape = targetShape
        self.classes = classes
        self.inputs = inputs.shape == [n] + sampleShape ? inputs : inputs.reshaped([n] + sampleShape)
        self.targets = targets.shape == [n] + targetShape ? targets : targets.reshaped([n] + targetShape)
    }

    /// A dataset from arrays (copied once).
    public convenience init(inputs: [Float], sampleShape: [Int], targets: [Float], targetShape: [Int] = [],
                            classes: Int?) {
        self.init(inputs: Tensor(shape: [inputs.count], values: inputs), sampleShape: sampleShape,
                  targets: Tensor(shape: [targets.count], values: targets), targetShape: targetShape,
                  classes: classes)
    }

    public func gather(_ indices: UnsafeBufferPointer<Int>, inputs x: Tensor, targets y: Tensor) {
        let n = indices.count
        let sx = Tensor.elementCount(sampleShape), sy = Tensor.elementCount(targetShape)
        precondition(x.count >= n * sx && y.count >= n * sy,
                     "gather: \(n) samples of \(sampleShape) / \(targetShape) do not fit tensors \(x.shape) / \(y.shape)")
        let src = inputs.pointer, tsrc = targets.pointer
        let dst = x.pointer, tdst = y.pointer
        for k in 0..<n {
            let i = indices[k]
            precondition(i >= 0 && i < count, "gather: index \(i) out of range 0..<\(count)")
            (dst + k * sx).update(from: src + i * sx, count: sx)
            (tdst + k * sy).update(from: tsrc + i * sy, count: sy)
        }
    }
}
