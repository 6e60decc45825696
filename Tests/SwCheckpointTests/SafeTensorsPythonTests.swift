import Testing
import SwCheckpoint
import SwTensor
import Foundation

/// A file we write is read by Python's standard library alone (struct + json), as any
/// safetensors reader would: header length, JSON, and the bytes at each tensor's offsets.
@Suite struct SafeTensorsPythonTests {
    static let script = #"""
import json, struct, sys
data = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + n].decode("utf-8"))
buf = data[8 + n:]
meta = header.pop("__metadata__", {})
sizes = {"F64": 8, "F32": 4, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "U16": 2, "U32": 4, "U64": 8,
         "BOOL": 1, "F16": 2, "BF16": 2, "F8_E4M3": 1}
out = {"header_len": n, "metadata": meta, "tensors": []}
end = 0
for name, t in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
    b, e = t["data_offsets"]
    count = 1
    for d in t["shape"]:
        count *= d
    assert b == end and e - b == count * sizes[t["dtype"]], name
    end = e
    first = None
    if t["dtype"] == "F32" and count:
        first = struct.unpack_from("<f", buf, b)[0]
    if t["dtype"] == "I64" and count:
        first = struct.unpack_from("<q", buf, b)[0]
    out["tensors"].append({"name": name, "dtype": t["dtype"], "shape": t["shape"], "offsets": [b, e], "first": first})
assert end == len(buf)
print(json.dumps(out))
"""#

    @Test(.enabled(if: onPath("python3"))) func pythonStandardLibraryReadsOurFile() throws {
        let dir = TemporaryFolder()
        let path = dir.file("model.safetensors")
        let writer = try SafeTensorsRoundTripTests.sample()
        try writer.write(to: path)

        let (status, out, err) = try run("/usr/bin/env", ["python3", "-c", Self.script, path])
        #expect(status == 0, "python3 failed: \(err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(json["header_len"] as? Int == (try SafeTensorsFile(path: path).headerLength))
        #expect(json["metadata"] as? [String: String] == writer.metadata)

        let tensors = try #require(json["tensors"] as? [[String: Any]])
        #expect(tensors.map { $0["name"] as? String } == writer.entries.map(\.name))
        for (t, e) in zip(tensors, writer.entries) {
            #expect(t["dtype"] as? String == e.dtype.rawValue)
            #expect(t["shape"] as? [Int] == e.shape)
            #expect(t["offsets"] as? [Int] == [e.dataOffsets.lowerBound, e.dataOffsets.upperBound])
        }
        #expect(tensors[0]["first"] as? Double == 1.0)
        #expect((tensors[2]["first"] as? NSNumber)?.int64Value == Int64.min)
    }
}
