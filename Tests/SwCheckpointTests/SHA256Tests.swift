import Testing
import Foundation
import SwCheckpoint

@Suite struct SHA256Tests {
    /// FIPS 180-2 appendix B test vectors.
    @Test func fipsVectors() {
        #expect(SHA256.hex(of: Array("abc".utf8))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(of: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(of: [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        #expect(SHA256.hex(of: []) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// Feeding the same bytes in uneven pieces gives the one-shot digest (block-boundary paths).
    @Test func streamingMatchesOneShot() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        for split in [1, 55, 56, 63, 64, 65, 127, 500] {
            var h = SHA256()
            var i = 0
            while i < bytes.count {
                let j = min(i + split, bytes.count)
                h.update(Array(bytes[i..<j]))
                i = j
            }
            #expect(SHA256.hexString(h.finalize()) == SHA256.hex(of: bytes))
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sha256sum") || onPath("sha256sum")))
    func fileDigestMatchesSha256sum() throws {
        let dir = TemporaryFolder()
        let path = dir.file("blob.bin")
        // Over one 1 MiB read chunk so the streaming path crosses chunks.
        let bytes = (0..<(1 << 20) + 12345).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let (status, out, _) = try run("/usr/bin/env", ["sha256sum", path])
        #expect(status == 0)
        let expected = String(out.prefix(64))
        #expect(try SHA256.hex(ofFile: path) == expected)
        #expect(SHA256.hex(of: bytes) == expected)
    }
}
