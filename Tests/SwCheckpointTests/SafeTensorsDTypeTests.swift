import Foundation
import Testing
import SwCheckpoint
import SwTensor

/// `HostTensor` through safetensors: every `DType` written and read back, the file's bytes
/// against the format, and the refusals naming the tensor.
@Suite struct SafeTensorsDTypeTests {
    /// One small tensor of each dtype, in a fixed order.
    static func tensors() throws -> [(String, HostTensor)] {
        [
            ("f32", HostTensor(shape: [1], values: [Float(1)])),
            ("bf16", HostTensor(shape: [2], values: [BFloat16(1), BFloat16(-2)])),
            ("f16", HostTensor(shape: [2], values: [Half(1), Half(65504)])),
            ("i8", HostTensor(shape: [2, 1], values: [Int8(-1), 2])),
            ("i32", HostTensor(shape: [1], values: [Int32(-2)])),
            ("u8", HostTensor(shape: [], values: [UInt8(255)])),
        ]
    }

    static func writer() throws -> SafeTensorsWriter {
        var w = SafeTensorsWriter()
        for (name, t) in try tensors() { try w.add(name, t) }
        return w
    }

    /// The header JSON and data bytes, spelled out from the format: u64 little-endian header
    /// length, the JSON padded with spaces to a multiple of 8, then each tensor's
    /// little-endian elements back to back.
    @Test func fileBytesFollowTheFormat() throws {
        let bytes = try Self.writer().serialized()
        let json = #"{"f32":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#
            + #""bf16":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},"#
            + #""f16":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},"#
            + #""i8":{"dtype":"I8","shape":[2,1],"data_offsets":[12,14]},"#
            + #""i32":{"dtype":"I32","shape":[1],"data_offsets":[14,18]},"#
            + #""u8":{"dtype":"U8","shape":[],"data_offsets":[18,19]}}"#
        let padded = Array(json.utf8) + Array(repeating: UInt8(ascii: " "), count: (8 - json.utf8.count % 8) % 8)
        let n = padded.count
        let length: [UInt8] = (0..<8).map { UInt8((n >> (8 * $0)) & 0xFF) }
        let data: [UInt8] = [0x00, 0x00, 0x80, 0x3F,     // F32 1.0
                             0x80, 0x3F, 0x00, 0xC0,     // BF16 1.0, -2.0
                             0x00, 0x3C, 0xFF, 0x7B,     // F16 1.0, 65504
                             0xFF, 0x02,                 // I8 -1, 2
                             0xFE, 0xFF, 0xFF, 0xFF,     // I32 -2
                             0xFF]                       // U8 255
        #expect(bytes == length + padded + data)
    }

    @Test func everyDTypeRoundTripsThroughAFile() throws {
        let dir = TemporaryFolder()
        try Self.writer().write(to: dir.file("t.safetensors"))
        let f = try SafeTensorsFile(path: dir.file("t.safetensors"))
        for (name, t) in try Self.tensors() {
            let back = try f.hostTensor(name)
            #expect(back.dtype == t.dtype && back.shape == t.shape, "\(name)")
            #expect(back.withUnsafeBytes { Array($0) } == t.withUnsafeBytes { Array($0) }, "\(name)")
            let into = HostTensor(zeros: t.shape, dtype: t.dtype)
            try f.read(name, into: into)
            #expect(into.withUnsafeBytes { Array($0) } == t.withUnsafeBytes { Array($0) }, "\(name)")
            #expect(f.entries.first { $0.name == name }?.dtype == SafeTensorsDType(t.dtype))
        }
        #expect(try f.values("bf16", as: BFloat16.self) == [BFloat16(1), BFloat16(-2)])
        #expect(try f.floats("f16") == [1, 65504])
        #expect(try f.hostTensor("i32").values(as: Int32.self) == [-2])
    }

    /// A Float tensor stored as BF16 and F16 (the F16 one at an odd offset) reads back as the
    /// rounded values.
    @Test func convertedTensorsReadBackRounded() throws {
        let values: [Float] = (0..<37).map { Float($0) * 0.37 - 5 }
        let source = Tensor(shape: [37], values: values)
        var w = SafeTensorsWriter()
        try w.add("bf16", HostTensor(converting: source, to: .bf16))
        try w.add("pad", HostTensor(shape: [1], values: [UInt8(7)]))
        try w.add("f16", HostTensor(converting: source, to: .f16))
        let f = try SafeTensorsFile(bytes: w.serialized(), name: "conv")
        #expect(try f.entry("f16").dataOffsets.lowerBound % 2 == 1)
        #expect(try f.floats("bf16") == values.map { BFloat16($0).float })
        #expect(try f.floats("f16") == values.map { Half($0).float })
        #expect(try f.hostTensor("f16").floatTensor().array == values.map { Half($0).float })
    }

    @Test func mismatchesNameTheTensor() throws {
        var w = try Self.writer()
        try w.add("f64", shape: [1], values: [1.0])
        let f = try SafeTensorsFile(bytes: w.serialized(), name: "m.safetensors")
        #expect(throws: CheckpointError.dtypeMismatch(file: "m.safetensors", tensor: "bf16", stored: "BF16", requested: "F16")) {
            try f.read("bf16", into: HostTensor(zeros: [2], dtype: .f16))
        }
        #expect(throws: CheckpointError.shapeMismatch(file: "m.safetensors", tensor: "i8", stored: [2, 1], destination: [2])) {
            try f.read("i8", into: HostTensor(zeros: [2], dtype: .i8))
        }
        #expect(throws: CheckpointError.dtypeMismatch(file: "m.safetensors", tensor: "f64", stored: "F64",
                                                      requested: "a HostTensor (F32, BF16, F16, I8, I32 or U8)")) {
            try f.hostTensor("f64")
        }
        #expect(throws: CheckpointError.tensorNotFound(file: "m.safetensors", tensor: "nope")) { try f.hostTensor("nope") }
    }

    /// numpy (an independent IEEE binary16 implementation) reads our file and rounds the F32
    /// tensor to float16 itself: its bits must equal our F16 tensor's, over the edge floats
    /// (every tie of binary16, subnormals, overflow), NaN excluded (numpy does not set the
    /// quiet bit).
    static let numpyScript = #"""
import json, struct, sys
import numpy as np
data = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + n].decode("utf-8"))
buf = data[8 + n:]
def arr(name, dtype):
    b, e = header[name]["data_offsets"]
    return np.frombuffer(buf[b:e], dtype=dtype)
x = arr("x", "<f4")
ours = arr("x16", "<u2")
with np.errstate(all="ignore"):
    ref = x.astype(np.float16).view("<u2")
bad = np.nonzero(ref != ours)[0]
print(json.dumps({"count": int(x.size), "bad": int(bad.size), "first": [[int(x.view("<u4")[i]), int(ours[i]), int(ref[i])] for i in bad[:5]]}))
"""#

    static let numpyPresent: Bool = {
        guard onPath("python3"), let r = try? run("/usr/bin/env", ["python3", "-c", "import numpy"]) else { return false }
        return r.0 == 0
    }()

    @Test(.enabled(if: numpyPresent, "python3 with numpy not found"))
    func numpyAgreesWithOurF16() throws {
        var xs: [Float] = []
        var h: UInt16 = 0
        // every finite half, the midpoints to the next one and the floats either side of them
        while h < 0x7C00 {
            let v = Half(bitPattern: h).float, next = h == 0x7BFF ? 65520 : Half(bitPattern: h + 1).float
            let mid = (v + next) / 2   // exact in Float
            xs += [v, mid, mid.nextDown, mid.nextUp, -mid]
            h += 1
        }
        xs += [.infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 1e-8, 65519.996, 70000]
        let t = Tensor(shape: [xs.count], values: xs)
        var w = SafeTensorsWriter()
        try w.add("x", t)
        try w.add("x16", HostTensor(converting: t, to: .f16))
        let dir = TemporaryFolder()
        try w.write(to: dir.file("h.safetensors"))
        let (status, out, err) = try run("/usr/bin/env", ["python3", "-c", Self.numpyScript, dir.file("h.safetensors")])
        #expect(status == 0, "python3 failed: \(err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(json["count"] as? Int == xs.count)
        #expect(json["bad"] as? Int == 0, "float bits, ours, numpy: \(json["first"] ?? "")")
    }
}
