import Foundation
import Testing
import _TestSupport
@testable import SwData

/// Mutation fuzzing of the numpy readers: a mutated .npy inputs file (header and data) and a
/// mutated .npz archive (zip directory, stored and deflated members) either load or throw a
/// `DataError`; a trap ends the process after `Fuzzer` saved the input. Each input goes
/// through a file, as users' files do. `SWTRAIN_FUZZ_SECONDS=120 swift test --filter
/// NPYFuzzTests` runs longer.
@Suite(.serialized) struct NPYFuzzTests {
    static func floats(_ v: [Float]) -> [UInt8] { v.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }
    static func int64s(_ v: [Int64]) -> [UInt8] { v.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) } }

    static let labels = npyBytes(descr: "<i8", shape: [4], data: int64s([0, 1, 2, 1]))
    static let npySeeds: [[UInt8]] = [
        npyBytes(descr: "<f4", shape: [4, 3], data: floats((0..<12).map(Float.init))),
        npyBytes(descr: "<f8", shape: [4, 2], data: (0..<8).flatMap { withUnsafeBytes(of: Double($0).bitPattern.littleEndian, Array.init) }),
        npyBytes(descr: "|u1", shape: [4, 1, 2], data: Array(0..<8), version: 2),
        npyBytes(descr: "<i8", shape: [4], data: int64s([5, -1, 3, 9]), version: 3),
        npyBytes(descr: "|b1", shape: [4, 2], data: [0, 1, 1, 0, 1, 1, 0, 0]),
    ]
    static let npyTokens: [[UInt8]] = ["(", ")", ",", "'", ":", "{", "}", "<f4", ">f8", "<i2", "|b1", "<f2", "True", "False",
                                       "'shape'", "'descr'", "'fortran_order'", "99999999999999999999", "-1", "0", " ",
                                       "\n", "\u{93}NUMPY"].map { Array($0.utf8) } + [[0], [0xFF], [1, 0], [0xFF, 0xFF, 0xFF, 0x7F]]

    static func tempPath(_ name: String) -> String {
        (NSTemporaryDirectory() as NSString).appendingPathComponent("swtrain-npyfuzz-\(getpid())-\(name)")
    }

    /// Writes `bytes` to `path` and loads it with `load`; true when it loaded. A refusal's
    /// message stays short (no error quotes the whole input).
    static func loads(_ bytes: [UInt8], path: String, _ load: (String) throws -> Void) -> Bool {
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        do {
            try load(path)
            return true
        } catch {
            #expect("\(error)".count < 1200, "\(String(describing: error).prefix(2000))")
            return false
        }
    }

    @Test func npyInputsAndLabels() {
        let x = Self.tempPath("x.npy"), y = Self.tempPath("y.npy")
        defer { try? FileManager.default.removeItem(atPath: x); try? FileManager.default.removeItem(atPath: y) }
        FileManager.default.createFile(atPath: y, contents: Data(Self.labels))
        let report = Fuzzer.run("npy", seeds: Self.npySeeds, tokens: Self.npyTokens, iterations: 300) { input in
            // As inputs (labels fixed), and as labels (inputs the first seed).
            let asInputs = Self.loads(input, path: x) { _ = try NPYDataset(inputs: $0, labels: y) }
            FileManager.default.createFile(atPath: x, contents: Data(Self.npySeeds[0]))
            let asLabels = Self.loads(input, path: y) { _ = try NPYDataset(inputs: x, labels: $0, classes: 10) }
            FileManager.default.createFile(atPath: y, contents: Data(Self.labels))
            return asInputs || asLabels
        }
        print(report)
        #expect(report.parsed > 0 && report.refused > 0)
    }

    /// Regression (found by the npy target): inputs of shape (4, 0), samples with no values,
    /// trapped in `InMemoryDataset`'s precondition; now a `DataError` naming the file.
    @Test func samplesWithoutValuesAreRefused() {
        let x = Self.tempPath("empty-x.npy"), y = Self.tempPath("empty-y.npy")
        defer { try? FileManager.default.removeItem(atPath: x); try? FileManager.default.removeItem(atPath: y) }
        FileManager.default.createFile(atPath: y, contents: Data(Self.labels))
        for shape in [[4, 0], [4, 3, 0], [4, 0, 5]] {
            FileManager.default.createFile(atPath: x, contents: Data(npyBytes(descr: "<i8", shape: shape, data: [])))
            do {
                _ = try NPYDataset(inputs: x, labels: y)
                Issue.record("shape \(shape) loaded")
            } catch {
                #expect("\(error)".contains(x) && "\(error)".contains("no values"), "\(error)")
            }
        }
    }

    @Test func npzArchive() throws {
        let seeds: [[UInt8]] = [
            zipBytes([("x.npy", Self.npySeeds[0]), ("y.npy", Self.labels)]),
            zipBytes([("y.npy", Self.labels), ("x.npy", Self.npySeeds[2])]),
            Array(try deflatedZip([("x.npy", Self.npySeeds[1]), ("y.npy", Self.labels)])),
        ]
        let tokens: [[UInt8]] = [[0x50, 0x4B, 0x03, 0x04], [0x50, 0x4B, 0x01, 0x02], [0x50, 0x4B, 0x05, 0x06],
                                 Array("x.npy".utf8), Array("y.npy".utf8), [0, 0], [0xFF, 0xFF], [8, 0], [0xFF, 0xFF, 0xFF, 0xFF]]
        let z = Self.tempPath("d.npz")
        defer { try? FileManager.default.removeItem(atPath: z) }
        let report = Fuzzer.run("npz", seeds: seeds, tokens: tokens + Self.npyTokens, iterations: 400) { input in
            Self.loads(input, path: z) { _ = try NPYDataset(npz: $0) }
        }
        print(report)
        #expect(report.parsed > 0 && report.refused > 0)
    }
}
