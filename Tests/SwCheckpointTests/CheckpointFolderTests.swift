import Testing
import Foundation
import SwCheckpoint
import SwTensor

@Suite struct CheckpointFolderTests {
    struct State: Codable, Equatable {
        var step: Int
        var epoch: Int
        var rng: RNG.State
    }

    /// Writes checkpoint `step` with a model and optimizer file whose contents depend on `step`.
    @discardableResult
    func save(_ writer: CheckpointWriter, step: Int) throws -> String {
        var model = SafeTensorsWriter(metadata: ["format": "pt"])
        try model.add("0.weight", Tensor(repeating: Float(step), shape: [4, 3]))
        try model.add("0.bias", Tensor(repeating: -Float(step), shape: [4]))
        var optimizer = SafeTensorsWriter()
        try optimizer.add("0.weight.exp_avg", Tensor(zeros: [4, 3]))
        try optimizer.add("step", shape: [], values: [Int64(step)])
        return try writer.write(step: step, files: [
            "model.safetensors": .safetensors(model),
            "optimizer.safetensors": .safetensors(optimizer),
        ], state: State(step: step, epoch: step / 10, rng: RNG.State(key: UInt64.max, counter: UInt64(step))))
    }

    @Test func latestNamesACompleteFolderAndStateRoundTrips() throws {
        let dir = TemporaryFolder()
        let writer = CheckpointWriter(directory: dir.file("run"))
        let path = try save(writer, step: 20)
        #expect(path == dir.file("run/checkpoint-20"))
        #expect(dir.names("run") == ["checkpoint-20", "latest"])
        #expect(dir.names("run/checkpoint-20") == ["model.safetensors", "optimizer.safetensors", "trainer_state.json"])
        #expect(try String(contentsOfFile: dir.file("run/latest"), encoding: .utf8) == "checkpoint-20\n")

        let resolved = try #require(try CheckpointReader(directory: dir.file("run")).resolve())
        #expect(resolved.fallback == nil)
        #expect(resolved.checkpoint.name == "checkpoint-20")
        #expect(try resolved.checkpoint.state(as: State.self)
                == State(step: 20, epoch: 2, rng: RNG.State(key: UInt64.max, counter: 20)))
        #expect(try resolved.checkpoint.safetensors("model.safetensors").floats("0.bias") == [-20, -20, -20, -20])

        // trainer_state.json: the caller's keys plus "files", each hash matching the file.
        let state = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: dir.file("run/checkpoint-20/trainer_state.json")))) as? [String: Any])
        #expect(Set(state.keys) == ["step", "epoch", "rng", "files"])
        let files = try #require(state["files"] as? [String: String])
        #expect(files.keys.sorted() == ["model.safetensors", "optimizer.safetensors"])
        for (name, hash) in files {
            #expect(hash == SHA256.hex(of: try [UInt8](contentsOfFile: dir.file("run/checkpoint-20/\(name)"))))
        }
    }

    @Test func identicalInputGivesIdenticalFolders() throws {
        let a = TemporaryFolder(), b = TemporaryFolder()
        try save(CheckpointWriter(directory: a.path), step: 3)
        try save(CheckpointWriter(directory: b.path), step: 3)
        for name in ["model.safetensors", "optimizer.safetensors", "trainer_state.json"] {
            #expect(try [UInt8](contentsOfFile: a.file("checkpoint-3/\(name)"))
                    == [UInt8](contentsOfFile: b.file("checkpoint-3/\(name)")))
        }
    }

    @Test func keepLastPrunesOldestAfterTheNewOneIsComplete() throws {
        let dir = TemporaryFolder()
        let writer = CheckpointWriter(directory: dir.path, keepLast: 2)
        for step in [10, 20, 30, 40] { try save(writer, step: step) }
        #expect(dir.names() == ["checkpoint-30", "checkpoint-40", "latest"])
        // Going back in steps (a resume from an older checkpoint) never deletes the new folder.
        try save(CheckpointWriter(directory: dir.path, keepLast: 1), step: 35)
        #expect(dir.names() == ["checkpoint-35", "latest"])
    }

    @Test func corruptedFileFallsBackToPreviousCompleteCheckpoint() throws {
        let dir = TemporaryFolder()
        let writer = CheckpointWriter(directory: dir.path)
        try save(writer, step: 1)
        try save(writer, step: 2)
        let model = dir.file("checkpoint-2/model.safetensors")
        var bytes = try [UInt8](contentsOfFile: model)
        bytes[bytes.count - 1] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: model))

        #expect {
            try CheckpointReader.open(folder: dir.file("checkpoint-2"))
        } throws: { error in
            guard case let .hashMismatch(file, _, _) = error as? CheckpointError else { return false }
            return file == model
        }
        let resolved = try #require(try CheckpointReader(directory: dir.path).resolve())
        #expect(resolved.checkpoint.name == "checkpoint-1")
        let fallback = try #require(resolved.fallback)
        #expect(fallback.latestNamed == "checkpoint-2")
        #expect(fallback.reason.contains("model.safetensors"))
        // An explicit request is strict: no fallback.
        #expect(throws: CheckpointError.self) { try CheckpointReader(directory: dir.path).resolve("checkpoint-2") }
        #expect(try CheckpointReader(directory: dir.path).resolve("checkpoint-1")?.checkpoint.name == "checkpoint-1")
    }

    @Test func missingFileIsNamed() throws {
        let dir = TemporaryFolder()
        try save(CheckpointWriter(directory: dir.path), step: 5)
        let optimizer = dir.file("checkpoint-5/optimizer.safetensors")
        try FileManager.default.removeItem(atPath: optimizer)
        #expect(throws: CheckpointError.missingFile(file: optimizer)) {
            try CheckpointReader.open(folder: dir.file("checkpoint-5"))
        }
        #expect {
            try CheckpointReader(directory: dir.path).resolve()
        } throws: { error in
            guard case let .noCompleteCheckpoint(_, problems) = error as? CheckpointError else { return false }
            return problems.count == 1 && problems[0].contains("optimizer.safetensors")
        }
    }

    @Test func brokenOrMissingLatestFallsBack() throws {
        let dir = TemporaryFolder()
        let writer = CheckpointWriter(directory: dir.path)
        try save(writer, step: 7)
        try save(writer, step: 9)
        try "../elsewhere".write(toFile: dir.file("latest"), atomically: false, encoding: .utf8)
        var r = try #require(try CheckpointReader(directory: dir.path).resolve())
        #expect(r.checkpoint.name == "checkpoint-9")
        #expect(r.fallback?.latestNamed == nil)

        try "checkpoint-8\n".write(toFile: dir.file("latest"), atomically: false, encoding: .utf8)
        r = try #require(try CheckpointReader(directory: dir.path).resolve())
        #expect(r.checkpoint.name == "checkpoint-9")
        #expect(r.fallback?.latestNamed == "checkpoint-8")

        try FileManager.default.removeItem(atPath: dir.file("latest"))
        r = try #require(try CheckpointReader(directory: dir.path).resolve())
        #expect(r.checkpoint.name == "checkpoint-9")
        #expect(r.fallback != nil)

        // A folder without trainer_state.json (a crash mid-copy by hand) is skipped too.
        try FileManager.default.removeItem(atPath: dir.file("checkpoint-9/trainer_state.json"))
        r = try #require(try CheckpointReader(directory: dir.path).resolve())
        #expect(r.checkpoint.name == "checkpoint-7")
    }

    @Test func freshRunFolderHasNothingToResume() throws {
        let dir = TemporaryFolder()
        #expect(try CheckpointReader(directory: dir.path).resolve() == nil)
        #expect(try CheckpointReader(directory: dir.file("never-created")).resolve() == nil)
    }

    @Test func staleTemporaryFoldersAreIgnoredAndRemoved() throws {
        let dir = TemporaryFolder()
        let writer = CheckpointWriter(directory: dir.path)
        try save(writer, step: 1)
        // A writer killed mid-save (pid far above any live one) left a newer, incomplete folder.
        let stale = dir.file(".tmp-checkpoint-2-2147483000")
        try FileManager.default.createDirectory(atPath: stale, withIntermediateDirectories: false)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: stale + "/model.safetensors"))
        #expect(try CheckpointReader(directory: dir.path).resolve()?.checkpoint.name == "checkpoint-1")
        try save(writer, step: 2)
        #expect(dir.names() == ["checkpoint-1", "checkpoint-2", "latest"])
    }

    @Test func rewritingAStepReplacesTheFolder() throws {
        let dir = TemporaryFolder()
        let writer = CheckpointWriter(directory: dir.path)
        try writer.write(step: 4, files: ["notes.txt": Array("first".utf8)], state: ["step": 4])
        try writer.write(step: 4, files: ["other.txt": Array("second".utf8)], state: ["step": 4])
        #expect(dir.names() == ["checkpoint-4", "latest"])
        #expect(dir.names("checkpoint-4") == ["other.txt", "trainer_state.json"])
        let c = try #require(try CheckpointReader(directory: dir.path).resolve()).checkpoint
        #expect(c.files.keys.sorted() == ["other.txt"])
    }

    @Test func stateMustBeAnObjectWithoutFiles() throws {
        let dir = TemporaryFolder()
        let writer = CheckpointWriter(directory: dir.path)
        #expect {
            try writer.write(step: 1, files: [String: [UInt8]](), state: [1, 2, 3])
        } throws: { error in
            if case .invalidState = error as? CheckpointError { return true } else { return false }
        }
        #expect {
            try writer.write(step: 1, files: [String: [UInt8]](), state: ["files": "mine"])
        } throws: { error in
            if case .invalidState = error as? CheckpointError { return true } else { return false }
        }
        #expect(dir.names().isEmpty)
    }
}
