import Testing
import SwCheckpoint
import SwTensor

/// Every malformed file gives its own `CheckpointError` case naming the file (and tensor);
/// none traps.
@Suite struct SafeTensorsMalformedTests {
    static let name = "bad.safetensors"

    /// A file from a header string and data bytes; `length` overrides the declared header length.
    static func file(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        return withUnsafeBytes(of: (length ?? UInt64(h.count)).littleEndian) { [UInt8]($0) } + h + data
    }

    /// Two valid F32 tensors: a [2] at [0, 8), b [1] at [8, 12).
    static let good = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
    static let goodData = [UInt8](repeating: 0, count: 12)

    func expectError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation,
                     _ matches: (CheckpointError) -> Bool) {
        do {
            _ = try SafeTensorsFile(bytes: bytes, name: Self.name)
            Issue.record("malformed file was accepted", sourceLocation: sourceLocation)
        } catch {
            #expect(matches(error), "unexpected error: \(error)", sourceLocation: sourceLocation)
            #expect(error.description.contains(Self.name), sourceLocation: sourceLocation)
        }
    }

    @Test func goodFileParses() throws {
        let f = try SafeTensorsFile(bytes: Self.file(Self.good, data: Self.goodData))
        #expect(f.entries.map(\.name) == ["a", "b"])
    }

    @Test func fileTooSmall() {
        expectError([]) { $0 == .fileTooSmall(file: Self.name, size: 0) }
        expectError([1, 0, 0, 0, 0]) { $0 == .fileTooSmall(file: Self.name, size: 5) }
    }

    @Test func headerLengthPastEndOfFile() {
        expectError(Self.file("{}", length: 1000)) {
            $0 == .headerPastEnd(file: Self.name, headerLength: 1000, fileSize: 10)
        }
    }

    @Test func truncatedHeader() {
        let whole = Self.file(Self.good, data: Self.goodData)
        expectError(Array(whole.prefix(40))) {
            if case .headerPastEnd = $0 { return true } else { return false }
        }
    }

    @Test func absurdHeaderLength() {
        expectError(Self.file("{}", length: 100_000_001)) { $0 == .headerTooLarge(file: Self.name, headerLength: 100_000_001) }
        expectError(Self.file("{}", length: .max)) { $0 == .headerTooLarge(file: Self.name, headerLength: .max) }
    }

    @Test func truncatedData() {
        expectError(Self.file(Self.good, data: Array(Self.goodData.prefix(10)))) {
            $0 == .dataPastEnd(file: Self.name, tensor: "b", end: 12, bufferSize: 10)
        }
        expectError(Self.file(Self.good, data: Array(Self.goodData.prefix(4)))) {
            $0 == .dataPastEnd(file: Self.name, tensor: "a", end: 8, bufferSize: 4)
        }
    }

    @Test func invalidJSON() {
        for bad in [#"{"a":{"dtype":"F32",}"#, "{", #"{"a" 1}"#, "{} x", #"{"a":tru}"#, #"{"a":"\q"}"#, "{\"a\":\"\u{01}\"}"] {
            expectError(Self.file(bad)) {
                if case let .invalidHeader(_, reason) = $0 { return reason.contains("JSON") } else { return false }
            }
        }
    }

    @Test func headerNotUTF8() {
        expectError(withUnsafeBytes(of: UInt64(4).littleEndian) { [UInt8]($0) } + [0x7B, 0xFF, 0xFE, 0x7D]) {
            $0 == .invalidHeader(file: Self.name, reason: "not valid UTF-8")
        }
    }

    @Test func headerNotAnObject() {
        expectError(Self.file("[1, 2]")) { $0 == .invalidHeader(file: Self.name, reason: "a JSON array, not an object") }
        expectError(Self.file(#""text""#)) { $0 == .invalidHeader(file: Self.name, reason: "a JSON string, not an object") }
    }

    @Test func deepNestingIsRefusedNotRecursed() {
        expectError(Self.file(#"{"a":"# + String(repeating: "[", count: 100_000))) {
            if case .invalidHeader = $0 { return true } else { return false }
        }
    }

    @Test func overlappingOffsets() {
        let h = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        expectError(Self.file(h, data: Self.goodData)) { $0 == .overlappingTensors(file: Self.name, tensor: "b", other: "a") }
    }

    @Test func offsetsOutOfOrder() {
        let h = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#
        expectError(Self.file(h, data: [UInt8](repeating: 0, count: 8))) {
            $0 == .offsetsOutOfOrder(file: Self.name, tensor: "a", begin: 8, end: 0)
        }
    }

    @Test func dtypeAndShapeDisagreeWithByteCount() {
        let h = #"{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}"#
        expectError(Self.file(h, data: [UInt8](repeating: 0, count: 8))) {
            $0 == .sizeMismatch(file: Self.name, tensor: "a", dtype: "F64", shape: [2], expectedBytes: 16, actualBytes: 8)
        }
        let overflow = #"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#
        expectError(Self.file(overflow, data: [UInt8](repeating: 0, count: 8))) {
            if case .sizeMismatch(_, "a", _, _, _, 8) = $0 { return true } else { return false }
        }
    }

    @Test func unknownDType() {
        let h = #"{"a":{"dtype":"F31","shape":[2],"data_offsets":[0,8]}}"#
        expectError(Self.file(h, data: [UInt8](repeating: 0, count: 8))) { $0 == .unknownDType(file: Self.name, tensor: "a", dtype: "F31") }
    }

    @Test func duplicateTensorName() {
        let h = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        expectError(Self.file(h, data: Self.goodData)) { $0 == .duplicateTensor(file: Self.name, tensor: "a") }
    }

    @Test func missingAndMistypedFields() {
        expectError(Self.file(#"{"a":{"dtype":"F32","data_offsets":[0,0]}}"#)) {
            $0 == .missingField(file: Self.name, tensor: "a", field: "shape")
        }
        expectError(Self.file(#"{"a":{"shape":[],"data_offsets":[0,4]}}"#)) {
            $0 == .missingField(file: Self.name, tensor: "a", field: "dtype")
        }
        expectError(Self.file(#"{"a":{"dtype":"F32","shape":[1]}}"#)) {
            $0 == .missingField(file: Self.name, tensor: "a", field: "data_offsets")
        }
        for shape in ["[-1]", "[1.5]", "[1e2]", #"["2"]"#, "2", "[99999999999999999999]"] {
            expectError(Self.file(#"{"a":{"dtype":"F32","shape":"# + shape + #","data_offsets":[0,4]}}"#)) {
                if case .invalidField(_, "a", "shape", _) = $0 { return true } else { return false }
            }
        }
        expectError(Self.file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#)) {
            if case .invalidField(_, "a", "data_offsets", _) = $0 { return true } else { return false }
        }
        expectError(Self.file(#"{"a":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}"#)) {
            if case .invalidField(_, "a", "dtype", _) = $0 { return true } else { return false }
        }
        expectError(Self.file(#"{"a":[1]}"#)) {
            if case .invalidField(_, "a", "entry", _) = $0 { return true } else { return false }
        }
    }

    @Test func holesAndTrailingBytes() {
        let gap = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        expectError(Self.file(gap, data: Self.goodData)) { $0 == .gapBeforeTensor(file: Self.name, tensor: "b", gapBegin: 4, gapEnd: 8) }
        let late = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        expectError(Self.file(late, data: [UInt8](repeating: 0, count: 8))) { $0 == .gapBeforeTensor(file: Self.name, tensor: "a", gapBegin: 0, gapEnd: 4) }
        expectError(Self.file(Self.good, data: Self.goodData + [0])) { $0 == .trailingBytes(file: Self.name, dataEnd: 12, bufferSize: 13) }
    }

    @Test func badMetadata() {
        expectError(Self.file(#"{"__metadata__":{"k":1}}"#)) {
            if case .invalidMetadata = $0 { return true } else { return false }
        }
        expectError(Self.file(#"{"__metadata__":"x"}"#)) {
            if case .invalidMetadata = $0 { return true } else { return false }
        }
    }

    /// Every truncation and many single-byte corruptions of a valid file throw or parse; none traps.
    @Test func corruptionsNeverTrap() throws {
        var w = SafeTensorsWriter(metadata: ["k": "v"])
        try w.add("w", Tensor(shape: [3, 2], values: [1, 2, 3, 4, 5, 6]))
        try w.add("n", shape: [2], values: [Int64(1), 2])
        let bytes = w.serialized()
        var rejected = 0
        for n in 0..<bytes.count {
            do { _ = try SafeTensorsFile(bytes: Array(bytes.prefix(n))) } catch { rejected += 1 }
        }
        #expect(rejected == bytes.count)
        var rng = RNG(seed: 7)
        for _ in 0..<2000 {
            var b = bytes
            let i = Int(rng.nextUInt32()) % b.count
            b[i] = UInt8(truncatingIfNeeded: rng.nextUInt32())
            _ = try? SafeTensorsFile(bytes: b)
        }
    }
}
