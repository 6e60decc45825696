import Foundation
import Testing
import SwConfig
@testable import SwTrain

/// A config that exists but cannot be read says why in POSIX words (`posixCause`), not
/// "NSCocoaErrorDomain error 256": EIO from `/proc/self/mem` (unreadable even for root) and
/// a folder given as the config.
struct ReadErrorTextTests {
    @Test func configReadFailureNamesTheCause() {
        for (path, cause) in [("/proc/self/mem", "Input/output error"), (NSTemporaryDirectory(), "it is a directory")] {
            do {
                _ = try TrainConfig.load(path: path)
                Issue.record("\(path) loaded as a config")
            } catch {
                let text = "\(error)"
                #expect(text.contains("cannot read the file: \(cause)"), "\(text)")
                #expect(!text.contains("NSCocoaErrorDomain"), "\(text)")
            }
        }
    }
}
