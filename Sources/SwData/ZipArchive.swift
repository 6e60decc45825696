import Foundation
import ZIPFoundation

/// The members of a zip archive (the container of numpy's .npz), read from its central
/// directory, including the zip64 records numpy writes. Stored members (`np.savez`) are read
/// in place, with no copy; deflated ones (`np.savez_compressed`) are inflated by ZIPFoundation,
/// checking their CRC-32. Any other method is a `DataError.compressed` naming the member.
struct ZipArchive {
    struct Member {
        let name: String
        /// 0 = stored, 8 = deflated.
        let method: Int
        /// Byte range of the member's (compressed) data in the archive.
        let data: Range<Int>
    }

    let members: [Member]

    init(bytes: UnsafeRawBufferPointer, file: String) throws(DataError) {
        let r = ByteReader(bytes: bytes, file: file)
        let signature = try r.u32(0, "the zip signature")
        guard signature == 0x0403_4B50 || signature == 0x0605_4B50 else {
            throw .badMagic(file: file, expected: "zip (.npz)")
        }
        // End of central directory: 22 bytes plus a comment of up to 65535 bytes.
        var eocd = -1
        var p = bytes.count - 22
        while p >= max(0, bytes.count - 22 - 65535) {
            if try r.u32(p, "the zip end record") == 0x0605_4B50 { eocd = p; break }
            p -= 1
        }
        guard eocd >= 0 else {
            throw .truncated(file: file, what: "the zip end-of-central-directory record", expected: bytes.count + 22,
                             actual: bytes.count)
        }
        var entries = try r.u16(eocd + 10, "the zip end record")
        var directory = try r.u32(eocd + 16, "the zip end record")
        if entries == 0xFFFF || directory == 0xFFFF_FFFF {
            // Zip64: the locator just before the end record points at the zip64 end record.
            guard eocd >= 20, try r.u32(eocd - 20, "the zip64 locator") == 0x0706_4B50 else {
                throw .badMagic(file: file, expected: "zip64 (.npz)")
            }
            let end64 = try r.u64(eocd - 12, "the zip64 locator")
            guard try r.u32(end64, "the zip64 end record") == 0x0606_4B50 else {
                throw .badMagic(file: file, expected: "zip64 (.npz)")
            }
            entries = try r.u64(end64 + 32, "the zip64 end record")
            directory = try r.u64(end64 + 48, "the zip64 end record")
        }
        var members: [Member] = []
        var q = directory
        for _ in 0..<entries {
            guard try r.u32(q, "a zip directory entry") == 0x0201_4B50 else {
                throw .badMagic(file: file, expected: "zip directory entry in a .npz")
            }
            let method = try r.u16(q + 10, "a zip directory entry")
            var compressedSize = try r.u32(q + 20, "a zip directory entry")
            var size = try r.u32(q + 24, "a zip directory entry")
            let nameLength = try r.u16(q + 28, "a zip directory entry")
            let extraLength = try r.u16(q + 30, "a zip directory entry")
            let commentLength = try r.u16(q + 32, "a zip directory entry")
            var local = try r.u32(q + 42, "a zip directory entry")
            let name = try r.string(q + 46, nameLength, "a zip member name")
            // Zip64 extra field (id 1): 64-bit values for the fields saturated above, in order.
            var e = q + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = try r.u16(e, "a zip extra field"), length = try r.u16(e + 2, "a zip extra field")
                if id == 1 {
                    var f = e + 4
                    if size == 0xFFFF_FFFF { size = try r.u64(f, "a zip64 field"); f += 8 }
                    if compressedSize == 0xFFFF_FFFF { compressedSize = try r.u64(f, "a zip64 field"); f += 8 }
                    if local == 0xFFFF_FFFF { local = try r.u64(f, "a zip64 field") }
                }
                e += 4 + length
            }
            guard try r.u32(local, "a zip local header") == 0x0403_4B50 else {
                throw .badMagic(file: file, expected: "zip local header in a .npz")
            }
            let start = local + 30 + (try r.u16(local + 26, "a zip local header")) + (try r.u16(local + 28, "a zip local header"))
            try r.need(start, compressedSize, "member '\(name)'")
            members.append(Member(name: name, method: method, data: start..<(start + compressedSize)))
            q = extraEnd + commentLength
        }
        self.members = members
    }

    /// The member named `key` (or `key.npy`).
    func member(_ key: String, file: String) throws(DataError) -> Member {
        guard let m = members.first(where: { $0.name == key }) ?? members.first(where: { $0.name == key + ".npy" }) else {
            throw .missingMember(file: file, member: key,
                                 available: members.map { $0.name.hasSuffix(".npy") ? String($0.name.dropLast(4)) : $0.name })
        }
        return m
    }

    /// The uncompressed bytes of member `key` of `archive` (the bytes this directory was read
    /// from): a slice of `archive` for a stored member, the inflated data for a deflated one.
    func contents(_ key: String, of archive: Data, file: String) throws(DataError) -> Data {
        let m = try member(key, file: file)
        switch m.method {
        case 0:
            return archive[archive.startIndex + m.data.lowerBound ..< archive.startIndex + m.data.upperBound]
        case 8:
            return try Self.inflate(m.name, of: archive, file: file)
        default:
            throw .compressed(file: file, member: m.name, method: m.method)
        }
    }

    /// Member `name` of `archive` inflated by ZIPFoundation, its CRC-32 checked.
    private static func inflate(_ name: String, of archive: Data, file: String) throws(DataError) -> Data {
        do {
            let zip = try Archive(data: archive, accessMode: .read)
            guard let entry = zip[name] else { throw DataError.missingMember(file: file, member: name, available: []) }
            var out = Data(capacity: Int(clamping: entry.uncompressedSize))
            let crc = try zip.extract(entry, bufferSize: 1 << 20, skipCRC32: false) { out.append($0) }
            guard crc == entry.checksum, out.count == entry.uncompressedSize else {
                throw DataError.unreadable(file: file, reason: "member '\(name)' is corrupt: its CRC-32 or size differs from the zip directory's")
            }
            return out
        } catch let e as DataError {
            throw e
        } catch {
            throw .unreadable(file: file, reason: "member '\(name)' cannot be inflated: \(error)")
        }
    }
}
