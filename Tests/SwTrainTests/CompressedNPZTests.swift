import Foundation
import Testing
import SwComm
import SwTrain
import _TestSupport

/// A config whose data is an `np.savez_compressed` archive trains exactly as the same arrays
/// in an `np.savez` (stored) archive: same samples, same losses, bit-identical parameters.
@Suite struct CompressedNPZTests {
    @Test func compressedNPZTrainsLikeStored() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swtrain-npz-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let n = 48
        let x = (0..<(n * 6)).map { Float(($0 * 37) % 23) / 11 - 1 }
        let y = (0..<n).map { Int64(($0 * 7) % 3) }
        let members = [("x.npy", npyBytes(descr: "<f4", shape: [n, 6], data: x.withUnsafeBytes { Array($0) })),
                       ("y.npy", npyBytes(descr: "<i8", shape: [n], data: y.withUnsafeBytes { Array($0) }))]
        try Data(zipBytes(members)).write(to: URL(fileURLWithPath: dir + "/stored.npz"))
        try deflatedZip(members).write(to: URL(fileURLWithPath: dir + "/compressed.npz"))

        var results: [(losses: [Double], parameters: [Float])] = []
        for name in ["stored", "compressed"] {
            let json = """
                {"data": {"train": {"kind": "npy", "inputs": "\(name).npz", "labels": "\(name).npz"},
                          "test": {"kind": "npy", "inputs": "\(name).npz", "labels": "\(name).npz"}},
                 "model": {"input": [6], "layers": [{"type": "dense", "units": 8}, {"type": "relu"}, {"type": "dense", "units": 3}]},
                 "training": {"batch_size": 8, "max_steps": 12},
                 "checkpoint": {"dir": "\(dir)/run-\(name)"}}
                """
            let trainer = try Trainer(config: try TrainConfig.parse(text: json, baseDirectory: dir), comm: LocalCommunicator())
            #expect(trainer.train.count == n)
            var losses: [Double] = []
            for _ in 0..<12 { losses.append(try trainer.trainStep().loss) }
            losses.append(try trainer.evaluate(trainer.test!).loss)
            results.append((losses, trainer.model.parameters.values.array))
        }
        #expect(results[0].losses.allSatisfy { $0.isFinite })
        #expect(results[0].losses == results[1].losses)
        #expect(results[0].parameters == results[1].parameters)
    }
}
