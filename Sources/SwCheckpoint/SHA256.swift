internal import Crypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SHA-256 (FIPS 180-4), one-shot or streaming, computed by swift-crypto (BoringSSL on Linux,
/// which uses the CPU's SHA extensions or AVX2 when present).
///
/// ```
/// SHA256.hex(of: Array("abc".utf8))   // "ba7816bf..."
/// var h = SHA256(); h.update(chunk1); h.update(chunk2); h.finalize()
/// ```
/// Used to record and verify the hash of every checkpoint file in `trainer_state.json`.
public struct SHA256 {
    private var hasher = Crypto.SHA256()

    /// A fresh hash.
    public init() {}

    /// Hashes more bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
    }

    /// Hashes more bytes.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The 32-byte digest of everything hashed so far.
    public mutating func finalize() -> [UInt8] {
        Array(hasher.finalize())
    }

    /// The digest of `bytes`.
    public static func hash(data bytes: [UInt8]) -> [UInt8] {
        var h = SHA256()
        h.update(bytes)
        return h.finalize()
    }

    /// The lowercase hex digest of `bytes` (as `sha256sum` prints it).
    public static func hex(of bytes: [UInt8]) -> String {
        hexString(hash(data: bytes))
    }

    /// The lowercase hex digest of the file at `path`, streamed in 1 MiB chunks (memory stays
    /// flat for any file size).
    public static func hex(ofFile path: String) throws(CheckpointError) -> String {
        let fd = try FileIO.openFile(path, O_RDONLY)
        defer { close(fd) }
        var h = SHA256()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { chunk.deallocate() }
        while true {
            let n = try FileIO.readAll(fd, chunk.baseAddress!, chunk.count, path: path)
            h.update(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            if n < chunk.count { break }
        }
        return hexString(h.finalize())
    }

    /// Bytes as lowercase hex.
    public static func hexString(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(digest.count * 2)
        for b in digest { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
