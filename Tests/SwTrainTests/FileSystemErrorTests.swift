import Foundation
import Testing
@testable import SwTrain

/// The run folder's small files are written with POSIX calls, so a failure names the file and
/// the real cause (Foundation on Linux says only "NSCocoaErrorDomain error 512").
@Suite struct FileSystemErrorTests {
    @Test func foldersFilesAndTheirErrors() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("swtrain-fs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try createDirectories(root + "/a/b/c")
        try createDirectories(root + "/a/b/c")   // existing: fine
        try writeFileAtomically(Array("one".utf8), to: root + "/a/f.txt")
        try writeFileAtomically(Array("two".utf8), to: root + "/a/f.txt")
        #expect(try String(contentsOfFile: root + "/a/f.txt", encoding: .utf8) == "two")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/a").sorted() == ["b", "f.txt"], "no temporary left")

        #expect { try createDirectories(root + "/a/f.txt/run") } throws: { error in
            let text = "\(error)"
            return text.contains("/a/f.txt") && text.contains("a file of that name exists") && !text.contains("NSCocoaErrorDomain")
        }
        #expect { try writeFileAtomically([1], to: root + "/missing/x.json") } throws: { error in
            "\(error)".contains("/missing/x.json: cannot write: No such file or directory")
        }
    }
}
