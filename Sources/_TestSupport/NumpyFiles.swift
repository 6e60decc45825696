import Foundation
import ZIPFoundation

/// A minimal .npy writer: `descr` like "<f4", C order, the given format version.
public func npyBytes(descr: String, shape: [Int], data: [UInt8], version: UInt8 = 1, fortran: Bool = false) -> [UInt8] {
    let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
    var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': (\(dims)), }"
    let prefix = version == 1 ? 10 : 12
    while (prefix + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
    let n = header.utf8.count
    if version == 1 {
        out += [UInt8(n & 0xFF), UInt8(n >> 8)]
    } else {
        out += [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)]
    }
    return out + Array(header.utf8) + data
}

/// A minimal zip writer (stored members, or a claimed method for error tests; CRC not set).
public func zipBytes(_ members: [(name: String, data: [UInt8])], method: UInt16 = 0) -> [UInt8] {
    func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
    func u32(_ v: Int) -> [UInt8] { u16(v & 0xFFFF) + u16(v >> 16) }
    var out: [UInt8] = [], directory: [UInt8] = []
    for m in members {
        let offset = out.count
        let name = Array(m.name.utf8)
        out += u32(0x0403_4B50) + u16(20) + u16(0) + u16(Int(method)) + u16(0) + u16(0) + u32(0)
            + u32(m.data.count) + u32(m.data.count) + u16(name.count) + u16(0) + name + m.data
        directory += u32(0x0201_4B50) + u16(20) + u16(20) + u16(0) + u16(Int(method)) + u16(0) + u16(0) + u32(0)
            + u32(m.data.count) + u32(m.data.count) + u16(name.count) + u16(0) + u16(0) + u16(0) + u16(0)
            + u32(0) + u32(offset) + name
    }
    let start = out.count
    out += directory
    out += u32(0x0605_4B50) + u16(0) + u16(0) + u16(members.count) + u16(members.count) + u32(directory.count)
        + u32(start) + u16(0)
    return out
}

/// A zip archive of `members`, each deflated as `np.savez_compressed` writes them, built in
/// memory by ZIPFoundation (so tests need no Python to make compressed .npz files).
public func deflatedZip(_ members: [(name: String, data: [UInt8])]) throws -> Data {
    let archive = try Archive(data: Data(), accessMode: .create)
    for m in members {
        try archive.addEntry(with: m.name, type: .file, uncompressedSize: Int64(m.data.count),
                             compressionMethod: .deflate) { position, size in
            Data(m.data[Int(position)..<Int(position) + size])
        }
    }
    return archive.data!
}
