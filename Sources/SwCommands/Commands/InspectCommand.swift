import Foundation
import SwCheckpoint
import SwTrain

/// `swtrain inspect PATH`: what a safetensors file, a checkpoint folder or a run folder holds.
public enum InspectCommand {
    public static func run(path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw RuntimeError("\(path): no such file or folder")
        }
        if !isDir.boolValue {
            try printTensors(try SafeTensorsFile(path: path))
            return
        }
        let checkpoint: Checkpoint
        if FileManager.default.fileExists(atPath: path + "/" + CheckpointWriter.stateFileName) {
            checkpoint = try CheckpointReader.open(folder: path)
        } else if let found = try CheckpointReader(directory: path).resolve(nil) {
            if let fb = found.fallback { print("note: latest is unusable (\(fb.reason)); showing \(found.checkpoint.name)") }
            checkpoint = found.checkpoint
        } else {
            throw RuntimeError("\(path): no checkpoint here (no trainer_state.json, no complete checkpoint-* folder)")
        }
        print("checkpoint \(checkpoint.path) (all \(checkpoint.files.count) file hashes verified)")
        if let s = try? checkpoint.state(as: TrainerState.self) {
            print("  run \(s.configName): step \(s.step), epoch \(s.epoch), \(s.samplesSeen) samples seen, optimizer \(s.optimizer) (\(s.optimizerSteps) steps), next lr \(s.nextLR)")
            print("  world size \(s.worldSize) (data parallel \(s.dataParallelSize) x pipeline \(s.pipelineStages)), config hash \(s.configHash), \(s.parameters) parameters")
        }
        for name in checkpoint.files.keys.sorted() where name.hasSuffix(".safetensors") {
            print("\(name):")
            try printTensors(try checkpoint.safetensors(name), indent: "  ")
        }
    }

    static func printTensors(_ file: SafeTensorsFile, indent: String = "") throws {
        var total = 0
        for e in file.entries {
            print("\(indent)\(e.name)  \(e.dtype.rawValue)  \(e.shape)")
            total += e.count
        }
        if !file.metadata.isEmpty {
            print("\(indent)metadata: " + file.metadata.keys.sorted().map { "\($0)=\(file.metadata[$0]!)" }.joined(separator: ", "))
        }
        print("\(indent)\(file.entries.count) tensors, \(total) values")
    }
}
