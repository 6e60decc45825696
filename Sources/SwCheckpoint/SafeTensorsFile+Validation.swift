import SwConfig

/// Header parsing and layout checks of `SafeTensorsFile`.
extension SafeTensorsFile {
    /// The tensor entries (header order) and `__metadata__` of a header, each field checked.
    static func parseHeader(_ bytes: UnsafeRawBufferPointer, file: String)
        throws(CheckpointError) -> ([SafeTensorsEntry], [String: String]) {
        guard isValidUTF8(bytes) else { throw .invalidHeader(file: file, reason: "not valid UTF-8") }
        let json: JSON
        do {
            json = try JSON.parse(bytes, maxDepth: headerMaxDepth)
        } catch {
            // A key written twice: a tensor name, a metadata key or a field of one tensor.
            switch (error.duplicateKey, error.path.count, error.path.first) {
            case (let key?, 0, _): throw .duplicateTensor(file: file, tensor: key)
            case (let key?, 1, "__metadata__"): throw .invalidMetadata(file: file, reason: "key '\(key)' appears twice")
            case (let key?, 1, let tensor?): throw .invalidField(file: file, tensor: tensor, field: key, reason: "appears twice")
            default: throw .invalidHeader(file: file, reason: "not valid JSON: \(error.message) at header byte \(error.offset)")
            }
        }
        guard case let .object(members) = json else {
            throw .invalidHeader(file: file, reason: "a JSON \(json.typeName), not an object")
        }

        var entries: [SafeTensorsEntry] = []
        var metadata: [String: String]? = nil
        for (name, value) in members.pairs {
            if name == "__metadata__" {
                metadata = try parseMetadata(value, file: file)
            } else {
                entries.append(try parseEntry(name, value, file: file))
            }
        }
        return (entries, metadata ?? [:])
    }

    private static func parseMetadata(_ value: JSON, file: String) throws(CheckpointError) -> [String: String] {
        guard case let .object(object) = value else {
            throw .invalidMetadata(file: file, reason: "a JSON \(value.typeName), not an object")
        }
        var out: [String: String] = [:]
        for (k, v) in object.pairs {
            guard case let .string(s) = v else {
                throw .invalidMetadata(file: file, reason: "value of '\(k)' is a \(v.typeName), not a string")
            }
            out[k] = s
        }
        return out
    }

    private static func parseEntry(_ name: String, _ value: JSON, file: String) throws(CheckpointError) -> SafeTensorsEntry {
        guard case let .object(fields) = value else {
            throw .invalidField(file: file, tensor: name, field: "entry", reason: "a JSON \(value.typeName), not an object")
        }
        func field(_ key: String) throws(CheckpointError) -> JSON {
            guard let v = fields[key] else {
                throw .missingField(file: file, tensor: name, field: key)
            }
            return v
        }
        func integers(_ key: String) throws(CheckpointError) -> [Int] {
            guard case let .array(items) = try field(key) else {
                throw .invalidField(file: file, tensor: name, field: key, reason: "not an array")
            }
            var out: [Int] = []
            for item in items {
                guard let n = item.nonNegativeInt else {
                    throw .invalidField(file: file, tensor: name, field: key,
                                        reason: "element \(item.serialized()) is not a non-negative integer")
                }
                out.append(n)
            }
            return out
        }

        guard case let .string(dtypeName) = try field("dtype") else {
            throw .invalidField(file: file, tensor: name, field: "dtype", reason: "not a string")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw .unknownDType(file: file, tensor: name, dtype: dtypeName)
        }
        let shape = try integers("shape")
        let offsets = try integers("data_offsets")
        guard offsets.count == 2 else {
            throw .invalidField(file: file, tensor: name, field: "data_offsets",
                                reason: "\(offsets.count) numbers, expected [begin, end]")
        }
        guard offsets[0] <= offsets[1] else {
            throw .offsetsOutOfOrder(file: file, tensor: name, begin: offsets[0], end: offsets[1])
        }
        let entry = SafeTensorsEntry(name: name, dtype: dtype, shape: shape, dataOffsets: offsets[0]..<offsets[1])

        // product(shape) * size, with overflow reported as a size mismatch.
        var bytes: Int? = dtype.size
        for d in shape {
            guard let b = bytes else { break }
            let (p, o) = b.multipliedReportingOverflow(by: d)
            bytes = o ? nil : p
        }
        guard let expected = bytes, expected == entry.dataOffsets.count else {
            throw .sizeMismatch(file: file, tensor: name, dtype: dtypeName, shape: shape,
                                expectedBytes: bytes ?? Int.max, actualBytes: entry.dataOffsets.count)
        }
        return entry
    }

    /// Sorted by (begin, end), the tensors must tile `[0, bufferSize)` exactly.
    static func validateLayout(_ entries: [SafeTensorsEntry], bufferSize: Int, file: String) throws(CheckpointError) {
        let sorted = entries.sorted {
            ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound)
        }
        var end = 0
        var previous: String? = nil
        for e in sorted {
            let r = e.dataOffsets
            if r.lowerBound < end, let other = previous {
                throw .overlappingTensors(file: file, tensor: e.name, other: other)
            }
            if r.lowerBound > end {
                if r.lowerBound > bufferSize {  // the file was cut before this tensor
                    throw .dataPastEnd(file: file, tensor: e.name, end: r.upperBound, bufferSize: bufferSize)
                }
                throw .gapBeforeTensor(file: file, tensor: e.name, gapBegin: end, gapEnd: r.lowerBound)
            }
            if r.upperBound > bufferSize {
                throw .dataPastEnd(file: file, tensor: e.name, end: r.upperBound, bufferSize: bufferSize)
            }
            end = r.upperBound
            previous = e.name
        }
        if end != bufferSize { throw .trailingBytes(file: file, dataEnd: end, bufferSize: bufferSize) }
    }

    private static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var decoder = UTF8()
        var it = bytes.makeIterator()
        while true {
            switch decoder.decode(&it) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
