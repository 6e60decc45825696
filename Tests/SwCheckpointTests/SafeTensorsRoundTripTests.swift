import Testing
import SwCheckpoint
import SwTensor

@Suite struct SafeTensorsRoundTripTests {
    /// One tensor of every dtype, including empty and scalar shapes.
    static func sample(metadata: [String: String] = ["format": "pt", "note": "quote \" and \\ and \n"]) throws -> SafeTensorsWriter {
        var w = SafeTensorsWriter(metadata: metadata)
        try w.add("0.weight", Tensor(shape: [2, 3], values: [1, -2, 3.5, 0, .infinity, -0.25]))
        try w.add("f64", shape: [3], values: [1.0, -2.5, 1e300])
        try w.add("i64", shape: [2], values: [Int64.min, Int64.max])
        try w.add("i32", shape: [1, 2], values: [Int32.min, 7])
        try w.add("i16", shape: [2], values: [Int16(-3), 4])
        try w.add("i8", shape: [3], values: [Int8(-128), 0, 127])
        try w.add("u8", shape: [1, 1, 3], values: [UInt8(0), 128, 255])
        try w.add("u16", shape: [1], values: [UInt16.max])
        try w.add("u32", shape: [1], values: [UInt32.max])
        try w.add("u64", shape: [], values: [UInt64.max])
        try w.add("empty", shape: [0, 4], values: [Float]())
        try w.add("bool", dtype: .bool, shape: [3], bytes: [1, 0, 1])
        // 1.0, -2.0 and 65504 (F16 max) in binary16; 1.0 and -3.0 in bfloat16.
        try w.add("f16", dtype: .f16, shape: [3], bytes: [0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B])
        try w.add("bf16", dtype: .bf16, shape: [2], bytes: [0x80, 0x3F, 0x40, 0xC0])
        try w.add("f8", dtype: .f8e4m3, shape: [2], bytes: [0x38, 0xB8])
        try w.add("ünïcode \"name\"", Tensor(shape: [1], values: [42]))
        return w
    }

    @Test func everyDTypeRoundTrips() throws {
        let w = try Self.sample()
        let f = try SafeTensorsFile(bytes: w.serialized(), name: "sample")
        #expect(f.entries == w.entries)
        #expect(f.metadata == ["format": "pt", "note": "quote \" and \\ and \n"])
        #expect(f.headerLength % 8 == 0)

        #expect(try f.floats("0.weight") == [1, -2, 3.5, 0, .infinity, -0.25])
        #expect(try f.values("f64", as: Double.self) == [1.0, -2.5, 1e300])
        #expect(try f.values("i64", as: Int64.self) == [Int64.min, Int64.max])
        #expect(try f.values("i32", as: Int32.self) == [Int32.min, 7])
        #expect(try f.values("i16", as: Int16.self) == [-3, 4])
        #expect(try f.values("i8", as: Int8.self) == [-128, 0, 127])
        #expect(try f.values("u8", as: UInt8.self) == [0, 128, 255])
        #expect(try f.values("u16", as: UInt16.self) == [UInt16.max])
        #expect(try f.values("u32", as: UInt32.self) == [UInt32.max])
        #expect(try f.values("u64", as: UInt64.self) == [UInt64.max])
        #expect(try f.entry("u64").shape == [])
        #expect(try f.floats("empty") == [])
        #expect(try f.bytes("bool") == [1, 0, 1])
        #expect(try f.floats("f16") == [1, -2, 65504])
        #expect(try f.floats("bf16") == [1, -3])
        #expect(try f.bytes("f8") == [0x38, 0xB8])
        #expect(try f.floats("ünïcode \"name\"") == [42])
        // F64 converts to Float; reading a tensor copies into its storage.
        #expect(try f.floats("f64") == [1.0, -2.5, .infinity])
        let t = Tensor(zeros: [2, 3])
        try f.read("0.weight", into: t)
        #expect(t.array == [1, -2, 3.5, 0, .infinity, -0.25])
        #expect(try f.tensor("0.weight").shape == [2, 3])
    }

    @Test func fileOnDiskMatchesMemoryAndIsDeterministic() throws {
        let dir = TemporaryFolder()
        try Self.sample().write(to: dir.file("a.safetensors"))
        try Self.sample().write(to: dir.file("b.safetensors"))
        let a = try [UInt8](contentsOfFile: dir.file("a.safetensors"))
        let b = try [UInt8](contentsOfFile: dir.file("b.safetensors"))
        #expect(a == b)
        #expect(a == (try Self.sample().serialized()))
        let f = try SafeTensorsFile(path: dir.file("a.safetensors"))
        #expect(try f.floats("0.weight") == [1, -2, 3.5, 0, .infinity, -0.25])
    }

    @Test func headerIsCompactJSONInGivenOrder() throws {
        var w = SafeTensorsWriter(metadata: ["b": "2", "a": "1"])
        try w.add("z", Tensor(shape: [1], values: [1]))
        try w.add("a", shape: [2], values: [Int32(1), 2])
        let header = String(decoding: w.header().dropFirst(8), as: UTF8.self)
        let json = #"{"__metadata__":{"a":"1","b":"2"},"z":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"I32","shape":[2],"data_offsets":[4,12]}}"#
        #expect(header.hasPrefix(json))
        #expect(header.dropFirst(json.utf8.count).allSatisfy { $0 == " " })
        #expect(header.utf8.count % 8 == 0)
    }

    @Test func viewsOfOneFlatBufferWriteTheSameBytes() throws {
        let flat = Tensor(shape: [10], values: (0..<10).map(Float.init))
        var views = SafeTensorsWriter()
        try views.add("0.weight", flat.rows(0..<6).reshaped([2, 3]))
        try views.add("0.bias", flat.rows(6..<10))
        var copies = SafeTensorsWriter()
        try copies.add("0.weight", Tensor(shape: [2, 3], values: (0..<6).map(Float.init)))
        try copies.add("0.bias", Tensor(shape: [4], values: (6..<10).map(Float.init)))
        let dir = TemporaryFolder()
        try views.write(to: dir.file("v.safetensors"))
        #expect(try [UInt8](contentsOfFile: dir.file("v.safetensors")) == copies.serialized())
    }

    @Test func readerRefusesMismatchedDestination() throws {
        let f = try SafeTensorsFile(bytes: Self.sample().serialized(), name: "sample")
        #expect(throws: CheckpointError.shapeMismatch(file: "sample", tensor: "0.weight", stored: [2, 3], destination: [3, 2])) {
            try f.read("0.weight", into: Tensor(zeros: [3, 2]))
        }
        #expect(throws: CheckpointError.dtypeMismatch(file: "sample", tensor: "i32", stored: "I32", requested: "F32")) {
            try f.floats("i32")
        }
        #expect(throws: CheckpointError.dtypeMismatch(file: "sample", tensor: "f64", stored: "F64", requested: "I64")) {
            try f.values("f64", as: Int64.self)
        }
        #expect(throws: CheckpointError.tensorNotFound(file: "sample", tensor: "nope")) { try f.floats("nope") }
    }

    @Test func writerRefusesBadEntries() throws {
        var w = SafeTensorsWriter()
        try w.add("a", shape: [2], values: [Float(1), 2])
        #expect(throws: CheckpointError.duplicateTensor(file: "<writer>", tensor: "a")) {
            try w.add("a", shape: [1], values: [Float(1)])
        }
        #expect(throws: CheckpointError.duplicateTensor(file: "<writer>", tensor: "__metadata__")) {
            try w.add("__metadata__", shape: [1], values: [Float(1)])
        }
        #expect(throws: CheckpointError.sizeMismatch(file: "<writer>", tensor: "b", dtype: "F32", shape: [3],
                                                     expectedBytes: 12, actualBytes: 8)) {
            try w.add("b", dtype: .f32, shape: [3], bytes: [UInt8](repeating: 0, count: 8))
        }
        #expect(w.entries.map(\.name) == ["a"])
    }
}
