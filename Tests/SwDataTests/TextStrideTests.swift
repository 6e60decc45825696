import Foundation
import Testing
import SwData
import SwTensor

/// The validation split scores each held-out character once: non-overlapping windows whose
/// targets tile the tail; the training split takes every window.
@Suite struct TextStrideTests {
    @Test func validationWindowsTileTheTail() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stride-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = String((0..<1000).map { i in Character(UnicodeScalar(UInt8(97 + (i * 7) % 26))) })
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let train = try TextDataset(path: path, context: 8, split: .train, validationFraction: 0.1)
        let valid = try TextDataset(path: path, context: 8, split: .validation, validationFraction: 0.1)
        #expect(train.count == 900 - 8)
        #expect(valid.count == (100 - 8 - 1) / 8 + 1)
        let (x, y) = valid.batch(Array(0..<valid.count))
        // Window k starts at token 8k of the tail: inputs tile it, targets are shifted by one.
        for k in 0..<valid.count {
            for t in 0..<8 {
                #expect(x[k, t] == valid.stream[flat: 8 * k + t])
                #expect(y[k, t] == valid.stream[flat: 8 * k + t + 1])
            }
        }
        #expect(Set((0..<valid.count).flatMap { k in (0..<8).map { 8 * k + $0 + 1 } }).count == valid.count * 8)
    }
}
