import SwConfig
import SwTensor

/// Checks of a loaded data set that every loader shares, generic over `Dataset`: every input
/// value is finite (and every target when targets are not class labels), and every class label
/// is an integer in `0..<classes`. A failure is a `DataError` naming the file, the first bad
/// sample (0-based) and the element within it.
///
/// Cost: one pass over the inputs. An `InMemoryDataset` is scanned in place with 16-lane
/// integer SIMD (a value is not finite exactly when its exponent bits are all ones); other
/// datasets are gathered 256 samples at a time into one scratch buffer. A `TextDataset`'s
/// inputs are token ids, finite by construction: only its stream is checked against `classes`.
public enum DataChecks {
    /// Throws the first non-finite value or bad label of `data`. `classes` (the model's) bounds
    /// labels when given, else `data.classes`; without either, targets must only be finite.
    public static func check(_ data: any Dataset, classes: Int? = nil, file: String? = nil) throws(DataError) {
        let name = file ?? source(of: data)
        let labelBound = classes ?? data.classes
        if let text = data as? TextDataset {
            if let bound = labelBound {
                try checkLabels(UnsafeBufferPointer(start: text.stream.pointer, count: text.tokenCount), bound: bound,
                                perSample: 1, file: name, sampleOf: { $0 / max(text.stride, 1) })
            }
            return
        }
        if let d = data as? InMemoryDataset {
            try checkFinite(UnsafeBufferPointer(start: d.inputs.pointer, count: d.inputs.count), perSample: d.sampleSize,
                            role: "inputs", file: name)
            try checkTargets(UnsafeBufferPointer(start: d.targets.pointer, count: d.targets.count), data: d,
                             bound: labelBound, file: name, first: 0)
            return
        }
        let chunk = 256
        let x = Tensor(zeros: [chunk * data.sampleSize]), y = Tensor(zeros: [chunk * max(data.targetSize, 1)])
        var indices = [Int](repeating: 0, count: chunk)
        var start = 0
        while start < data.count {
            let n = min(chunk, data.count - start)
            for k in 0..<n { indices[k] = start + k }
            indices.withUnsafeBufferPointer { data.gather(UnsafeBufferPointer(rebasing: $0[0..<n]), inputs: x, targets: y) }
            do {
                try checkFinite(UnsafeBufferPointer(start: x.pointer, count: n * data.sampleSize), perSample: data.sampleSize,
                                role: "inputs", file: name)
            } catch {
                if case .notFinite(let f, let r, let s, let e, let v, let at) = error {
                    throw .notFinite(file: f, role: r, sample: s + start, element: e, value: v, at: at)
                }
                throw error
            }
            try checkTargets(UnsafeBufferPointer(start: y.pointer, count: n * data.targetSize), data: data,
                             bound: labelBound, file: name, first: start)
            start += n
        }
    }

    /// `check` as the trainer's set-up reports errors: a `ConfigError` at the data source's
    /// JSON `path` (e.g. "data.train") of `configFile`, with the data error's text and hint.
    public static func check(_ data: any Dataset, classes: Int?, configFile: String?, path: String) throws(ConfigError) {
        do {
            try check(data, classes: classes)
        } catch {
            throw ConfigError(file: configFile, path: path, message: error.description)
        }
    }

    /// The file a dataset was read from, for messages ("data" when unknown).
    public static func source(of data: any Dataset) -> String {
        switch data {
        case let d as CSVDataset: return d.path
        case let d as NPYDataset: return d.source
        case let d as TextDataset: return d.path
        case is MNIST1D: return "mnist1d"
        default: return "data"
        }
    }

    /// The index of the first NaN or infinity in `values`, or nil. Vectorised: 16 lanes of the
    /// bit patterns, `min(~bits & 0x7F80_0000)` per block of 256 is 0 exactly when the block
    /// holds a value whose exponent bits are all ones; only such a block is searched again.
    public static func firstNonFinite(_ values: UnsafeBufferPointer<Float>) -> Int? {
        guard let base = values.baseAddress else { return nil }
        let n = values.count
        let raw = UnsafeRawPointer(base)
        let mask = SIMD16<UInt32>(repeating: 0x7F80_0000)
        let block = 256
        var i = 0
        while i + block <= n {
            var acc = mask
            var k = 0
            while k < block {
                let v = raw.loadUnaligned(fromByteOffset: (i + k) &* 4, as: SIMD16<UInt32>.self)
                acc = pointwiseMin(acc, ~v & mask)
                k &+= 16
            }
            if acc.min() == 0 { break }
            i += block
        }
        while i < n {
            if !values[i].isFinite { return i }
            i += 1
        }
        return nil
    }

    static func checkFinite(_ values: UnsafeBufferPointer<Float>, perSample: Int, role: String, file: String) throws(DataError) {
        guard let i = firstNonFinite(values) else { return }
        let per = max(perSample, 1)
        throw .notFinite(file: file, role: role, sample: i / per, element: i % per, value: "\(values[i])", at: nil)
    }

    private static func checkTargets(_ values: UnsafeBufferPointer<Float>, data: any Dataset, bound: Int?, file: String,
                                     first: Int) throws(DataError) {
        let per = max(data.targetSize, 1)
        if let bound {
            try checkLabels(values, bound: bound, perSample: per, file: file, sampleOf: { first + $0 / per })
        } else {
            do {
                try checkFinite(values, perSample: per, role: "targets", file: file)
            } catch {
                if case .notFinite(let f, let r, let s, let e, let v, let at) = error {
                    throw .notFinite(file: f, role: r, sample: s + first, element: e, value: v, at: at)
                }
                throw error
            }
        }
    }

    private static func checkLabels(_ values: UnsafeBufferPointer<Float>, bound: Int, perSample: Int, file: String,
                                    sampleOf: (Int) -> Int) throws(DataError) {
        let limit = Float(bound)
        func text(_ v: Float) -> String { v.isFinite && v == v.rounded(.towardZero) && abs(v) < 1e15 ? "\(Int(v))" : "\(v)" }
        for i in 0..<values.count {
            let v = values[i]
            if !(v >= 0 && v < limit && v == v.rounded(.towardZero)) {
                var largest: String? = nil
                if v >= limit && v.isFinite && v == v.rounded(.towardZero) {
                    var m = v
                    for j in i..<values.count where values[j] > m { m = values[j] }
                    largest = text(m)
                }
                throw .labelOutOfRange(file: file, sample: sampleOf(i), label: text(v), classes: bound, largest: largest)
            }
        }
    }
}
