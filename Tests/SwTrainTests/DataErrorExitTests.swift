import Foundation
import Testing
import SwCheckpoint
import SwConfig
import SwTrain
import _TestSupport

/// `swtrain train` on a bad data file: a message naming the file and where in it, exit 2, no
/// death by a signal. One test per class of bad data.
@Suite(.serialized, .enabled(if: TrainJobs.canRun, "the swtrain executable is missing: data error tests skipped"))
struct DataErrorExitTests {
    /// A config training a 2-feature, 3-class MLP on `train` (a source object), tested on `test`.
    static func config(train: String, test: String? = nil, input: Int = 2) -> String {
        """
        {
          "name": "bad-data", "seed": 1,
          "data": {"train": \(train)\(test.map { ", \"test\": \($0)" } ?? "")},
          "model": {"input": [\(input)], "layers": [{"type": "dense", "units": 8}, {"type": "relu"}, {"type": "dense", "units": 3}],
                    "loss": "cross_entropy"},
          "optimizer": {"type": "sgd", "lr": 0.1},
          "training": {"batch_size": 2, "max_steps": 3, "eval_every_steps": 0, "log_every_steps": 1},
          "checkpoint": {"dir": "run", "every_steps": 0}
        }
        """
    }

    static let goodCSV = "x,y,label\n1,2,0\n3,4,1\n5,6,2\n7,8,0\n"

    /// Writes `files` next to the config and runs `swtrain train`; returns (stderr, status).
    func run(_ config: String, files: [String: [UInt8]]) throws -> MPIRun.Result {
        let folder = try TrainJobs.folder(config: config)
        defer { TrainJobs.remove(folder) }
        for (name, bytes) in files { try Data(bytes).write(to: URL(fileURLWithPath: folder + "/" + name)) }
        return try TrainJobs.train(folder, run: "run", ranks: 0, timeout: 60)
    }

    func expectDataError(_ r: MPIRun.Result, _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!r.signaled && !r.timedOut, "died by signal \(r.status)\n\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.status == 2, "exit \(r.status)\n\(r.stderr)", sourceLocation: sourceLocation)
        for f in fragments {
            #expect(r.stderr.contains(f), "no \"\(f)\" in:\n\(r.stderr)", sourceLocation: sourceLocation)
        }
        #expect(r.stderr.count < 1500, "long message:\n\(r.stderr)", sourceLocation: sourceLocation)
    }

    @Test func goodDataTrains() throws {
        let r = try run(Self.config(train: #"{"kind": "csv", "path": "d.csv"}"#), files: ["d.csv": Array(Self.goodCSV.utf8)])
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test func nanInTrainingInputs() throws {
        let csv = "x,y,label\n1,2,0\n3,4,1\n5,nan,2\n"
        let r = try run(Self.config(train: #"{"kind": "csv", "path": "d.csv"}"#), files: ["d.csv": Array(csv.utf8)])
        expectDataError(r, ["d.csv", "sample 2, element 1", "line 4, column 2", "nan", "hint:"])
    }

    @Test func infInTestInputs() throws {
        let csv = "x,y,label\n1,2,0\n-inf,4,1\n"
        let r = try run(Self.config(train: #"{"kind": "csv", "path": "d.csv"}"#, test: #"{"kind": "csv", "path": "t.csv"}"#),
                        files: ["d.csv": Array(Self.goodCSV.utf8), "t.csv": Array(csv.utf8)])
        expectDataError(r, ["t.csv", "data.test", "sample 1, element 0", "line 3, column 1"])
    }

    @Test func quotedCommaAndUnclosedQuote() throws {
        let ok = "\"x, first\",\"y\",label\n\"1\",2,0\n3,\"4\",1\n5,6,2\n"
        #expect(try run(Self.config(train: #"{"kind": "csv", "path": "d.csv"}"#), files: ["d.csv": Array(ok.utf8)]).status == 0)
        let bad = "x,y,label\n1,2,0\n\"3,4,1\n5,6,2\n"
        let r = try run(Self.config(train: #"{"kind": "csv", "path": "d.csv"}"#), files: ["d.csv": Array(bad.utf8)])
        expectDataError(r, ["d.csv", "line 3, character 1", "never closed"])
    }

    @Test func semicolonsAndHeaderless() throws {
        let semi = try run(Self.config(train: #"{"kind": "csv", "path": "d.csv"}"#),
                           files: ["d.csv": Array("x;y;label\n1;2;0\n".utf8)])
        expectDataError(semi, ["d.csv", "line 1", "';'", "commas"])
        let bare = try run(Self.config(train: #"{"kind": "csv", "path": "d.csv", "label_column": 2}"#),
                           files: ["d.csv": Array("1,2,0\n3,4,1\n".utf8)])
        expectDataError(bare, ["d.csv", "all numbers", "\"header\": false"])
    }

    /// A CR-only file of a thousand lines with a bad cell quotes the cell, not the file.
    @Test func crOnlyFileQuotesOneCell() throws {
        var lines = ["x,y,label"] + (0..<1000).map { "\($0),\($0),\($0 % 3)" }
        lines[700] = "7,seven,1"
        let r = try run(Self.config(train: #"{"kind": "csv", "path": "d.csv"}"#),
                        files: ["d.csv": Array(lines.joined(separator: "\r").utf8)])
        expectDataError(r, ["d.csv", "line 701", "column 2", "\"seven\""])
    }

    @Test func latin1Text() throws {
        let train = #"{"kind": "text", "path": "t.txt", "context": 4}"#
        let cfg = """
        {
          "name": "bad-text", "seed": 1, "data": {"train": \(train)},
          "model": {"input": [4], "layers": [{"type": "embedding", "vocab": 64, "dim": 8}, {"type": "dense", "units": 64}],
                    "loss": "cross_entropy"},
          "optimizer": {"type": "sgd", "lr": 0.1},
          "training": {"batch_size": 2, "max_steps": 2, "eval_every_steps": 0, "log_every_steps": 1},
          "checkpoint": {"dir": "run", "every_steps": 0}
        }
        """
        let r = try run(cfg, files: ["t.txt": Array("un caf".utf8) + [0xE9] + Array(" au lait, encore\n".utf8)])
        expectDataError(r, ["t.txt", "0xE9", "offset 6", "line 1", "iconv"])
    }

    /// Needs `DataChecks.check` in `Builders.check` (npy data is read by a loader outside SwData's
    /// CSV/text files, so the generic check runs in the trainer's set-up).
    @Test
    func nanInNPYTestData() throws {
        var x = [Float](repeating: 0.5, count: 4 * 2)
        x[5] = .nan
        let npyX = npy("<f4", [4, 2], x.withUnsafeBytes { Array($0) })
        let npyY = npy("<i8", [4], [Int64](arrayLiteral: 0, 1, 2, 0).withUnsafeBytes { Array($0) })
        let r = try run(Self.config(train: #"{"kind": "csv", "path": "d.csv"}"#,
                                    test: #"{"kind": "npy", "inputs": "x.npy", "labels": "y.npy"}"#),
                        files: ["d.csv": Array(Self.goodCSV.utf8), "x.npy": npyX, "y.npy": npyY])
        expectDataError(r, ["x.npy", "data.test", "sample 2, element 1", "nan"])
    }

    @Test
    func labelOutsideTheModelsClasses() throws {
        let csv = "x,y,label\n1,2,0\n3,4,1\n5,6,7\n"
        let r = try run(Self.config(train: #"{"kind": "csv", "path": "d.csv"}"#), files: ["d.csv": Array(csv.utf8)])
        expectDataError(r, ["d.csv", "label 7 of sample 2", "0..<3"])
    }

    /// Resume with another global batch continues (the sampler carries its position over);
    /// resume onto a smaller data set or another seed is refused naming old and new values,
    /// without a signal (it was a trap in `Sampler.restore`).
    @Test func resumeWithAnotherBatchOrDataSet() throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config(maxSteps: 30))
        defer { TrainJobs.remove(folder) }
        let first = try TrainJobs.train(folder, run: "run", ranks: 0, ["--stop-after", "15"])
        try #require(first.status == 0, "\(first.stderr)")
        let bigger = try TrainJobs.train(folder, run: "run", ranks: 0,
                                         ["--resume", "latest", "--set", "training.batch_size=64", "--stop-after", "12"])
        #expect(bigger.status == 0 && !bigger.signaled, "exit \(bigger.status)\n\(bigger.stderr)")
        for (extra, fragments) in [
            (["--set", "data.train.samples=300"], ["data set size", "400 samples", "240 samples", "hint:"]),
            (["--set", "seed=8"], ["seed 7", "has 8", "hint:"]),
        ] {
            let r = try TrainJobs.train(folder, run: "run", ranks: 0, ["--resume", "latest"] + extra)
            #expect(!r.signaled && r.status != 0, "\(extra): exit \(r.status)\n\(r.stderr)")
            for f in fragments { #expect(r.stderr.contains(f), "\(extra): no \"\(f)\" in\n\(r.stderr)") }
        }
    }

    func npy(_ descr: String, _ shape: [Int], _ data: [UInt8]) -> [UInt8] {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let n = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8) + data
    }
}

/// Mutation fuzzing (see `Fuzzer`) of the full config parser (`TrainConfig.parse`: JSON plus
/// the schema) and of safetensors files (`SafeTensorsFile(bytes:)`: the header and layout
/// checks, then every tensor read): each input parses or throws its typed error.
@Suite(.serialized) struct ConfigAndSafeTensorsFuzzTests {
    @Test func trainConfig() {
        let seeds = [TrainJobs.config(), TrainJobs.config(dropout: true, layerNorm: true), baseConfig,
                     DataErrorExitTests.config(train: #"{"kind": "mnist1d", "samples": 100}"#)].map { Array($0.utf8) }
        let tokens: [[UInt8]] = ["{", "}", "[", "]", "\"", ":", ",", "0", "-1", "1e23", "1e999", "2.5", "null", "true",
                                 "\"adam\"", "\"units\": ", "\"type\": \"dense\"", "\\u0000"].map { Array($0.utf8) }
        let report = Fuzzer.run("train-config", seeds: seeds, tokens: tokens, iterations: 3000) { input in
            do {
                let c = try TrainConfig.parse(text: String(decoding: input, as: UTF8.self), file: "fuzz.json")
                try c.validate(worldSize: 1)
                return true
            } catch let e as ConfigError {
                #expect(e.description.count < 2000, "\(e.description.prefix(3000))")
                return false
            } catch {
                Issue.record("not a ConfigError: \(error)")
                return false
            }
        }
        print(report)
        #expect(report.parsed > 0 && report.refused > 0, "\(report)")
    }

    @Test func safeTensors() {
        func file(_ header: String, _ data: [UInt8]) -> [UInt8] {
            let h = Array(header.utf8)
            return withUnsafeBytes(of: UInt64(h.count).littleEndian) { Array($0) } + h + data
        }
        let floats = [Float](repeating: 1.25, count: 6).withUnsafeBytes { Array($0) }
        let seeds = [
            file(#"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"__metadata__":{"format":"pt"}}"#, floats),
            file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[4],"data_offsets":[8,16]},"c":{"dtype":"F16","shape":[],"data_offsets":[16,18]}}"#,
                 floats.prefix(18).map { $0 }),
            file(#"{"e":{"dtype":"I64","shape":[0],"data_offsets":[0,0]}}  "#, []),
        ]
        let tokens: [[UInt8]] = ["{", "}", "[", "]", "\"", ":", ",", "\"F32\"", "\"F64\"", "\"U8\"", "\"dtype\"", "\"shape\"",
                                 "\"data_offsets\"", "18446744073709551615", "-1", "4294967296", "1e3"].map { Array($0.utf8) }
                                 + [[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], [0]]
        let report = Fuzzer.run("safetensors", seeds: seeds, tokens: tokens, iterations: 4000) { input in
            do {
                let f = try SafeTensorsFile(bytes: input, name: "fuzz.safetensors")
                for e in f.entries where e.count < 1 << 20 { _ = try? f.floats(e.name) }
                return true
            } catch {
                #expect("\(error)".count < 2000, "\(String(describing: error).prefix(3000))")
                return false
            }
        }
        print(report)
        #expect(report.parsed > 0 && report.refused > 0, "\(report)")
    }
}
