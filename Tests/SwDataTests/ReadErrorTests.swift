import Foundation
import Testing
@testable import SwData

/// A file that exists but cannot be read gives the POSIX cause, not Foundation's
/// "NSCocoaErrorDomain error 256". `/proc/self/mem` opens but its first page is unmapped, so
/// reading it fails with EIO, also for root (for whom permission bits do not stop a read).
struct ReadErrorTests {
    @Test func unreadableFileNamesThePOSIXCause() {
        do {
            _ = try readFileBytes("/proc/self/mem")
            Issue.record("reading /proc/self/mem succeeded")
        } catch {
            let text = "\(error)"
            #expect(text.contains("/proc/self/mem"), "\(text)")
            #expect(text.contains("Input/output error"), "\(text)")
            #expect(!text.contains("NSCocoaErrorDomain"), "\(text)")
        }
    }

    @Test func directoryAndMissingFileAreNamed() {
        for (path, cause) in [(NSTemporaryDirectory(), "is a directory"), ("/nonexistent/x.npy", "no such file")] {
            do {
                _ = try NPYDataset(inputs: path, labels: path)
                Issue.record("\(path) loaded")
            } catch {
                #expect("\(error)".contains(cause), "\(error)")
            }
        }
    }
}
