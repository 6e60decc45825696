import Foundation

/// A checkpoint folder whose files all match the hashes in its `trainer_state.json`.
public struct Checkpoint: Sendable {
    /// The folder's path.
    public let path: String
    /// The folder's name (`"checkpoint-120"`).
    public var name: String { String(path.split(separator: "/").last ?? Substring(path)) }
    /// The SHA-256 (hex) of each file, as recorded and verified.
    public let files: [String: String]
    /// The raw `trainer_state.json` (the caller's state plus `"files"`).
    public let stateJSON: [UInt8]

    /// The path of one of the folder's files.
    public func filePath(_ file: String) -> String { "\(path)/\(file)" }

    /// Decodes the trainer state (the `"files"` key is ignored by synthesized `Decodable`).
    public func state<S: Decodable>(as type: S.Type) throws(CheckpointError) -> S {
        do {
            return try JSONDecoder().decode(S.self, from: Data(stateJSON))
        } catch {
            throw .invalidState(file: filePath(CheckpointWriter.stateFileName), reason: "cannot decode \(S.self): \(error)")
        }
    }

    /// Opens one of the folder's safetensors files.
    public func safetensors(_ file: String) throws(CheckpointError) -> SafeTensorsFile {
        try SafeTensorsFile(path: filePath(file))
    }
}

/// The checkpoint a run should resume from, and whether `latest` had to be bypassed.
public struct CheckpointResolution: Sendable {
    /// The verified checkpoint.
    public let checkpoint: Checkpoint
    /// Nil when `latest` named `checkpoint`; otherwise why `latest` was not used.
    public let fallback: Fallback?

    /// Why `latest` was bypassed for an older complete checkpoint.
    public struct Fallback: Sendable {
        /// What `latest` named (nil when `latest` is missing or unreadable).
        public let latestNamed: String?
        /// What was wrong with it.
        public let reason: String
    }
}

/// Finds and verifies checkpoints in a run folder.
///
/// `resolve()` follows `latest`; when `latest` is missing, names no folder, or names a folder
/// whose files do not match their hashes, it takes the newest `checkpoint-<step>` folder that
/// verifies and says so in `CheckpointResolution.fallback`. `.tmp-*` folders are never read.
public struct CheckpointReader: Sendable {
    /// The run folder.
    public let directory: String

    /// A reader of the run folder `directory`.
    public init(directory: String) {
        self.directory = directory
    }

    /// The checkpoint `reference` names: nil or `"latest"` resolves `latest` (with fallback);
    /// anything else is a folder path, absolute or relative to `directory`: a checkpoint folder,
    /// verified strictly, or a run folder (no trainer_state.json of its own), resolved like
    /// `latest` there. Returns nil only when the run folder holds no checkpoint at all (a
    /// fresh run).
    public func resolve(_ reference: String? = nil) throws(CheckpointError) -> CheckpointResolution? {
        guard let reference, reference != CheckpointWriter.latestFileName else { return try resolveLatest() }
        let inRun = "\(directory)/\(reference)"
        let path = reference.hasPrefix("/") || !FileIO.exists(inRun) ? reference : inRun
        // A run folder (no trainer_state.json of its own): its newest complete checkpoint.
        if FileIO.isDirectory(path), !FileIO.exists("\(path)/\(CheckpointWriter.stateFileName)") {
            return try CheckpointReader(directory: path).resolveLatest()
        }
        return CheckpointResolution(checkpoint: try Self.open(folder: path), fallback: nil)
    }

    /// Verifies the folder at `path`: `trainer_state.json` parses and holds a `"files"` map, and
    /// every listed file exists with that SHA-256.
    public static func open(folder path: String) throws(CheckpointError) -> Checkpoint {
        guard FileIO.isDirectory(path) else { throw .notACheckpoint(path: path, reason: "no such folder") }
        let statePath = "\(path)/\(CheckpointWriter.stateFileName)"
        guard FileIO.exists(statePath) else { throw .missingFile(file: statePath) }
        let stateJSON = try FileIO.readFile(statePath)
        guard let object = try? JSONSerialization.jsonObject(with: Data(stateJSON)) as? [String: Any] else {
            throw .invalidState(file: statePath, reason: "not a JSON object")
        }
        guard let files = object["files"] as? [String: String] else {
            throw .invalidState(file: statePath, reason: "no \"files\" map of file name to sha256")
        }
        for (file, expected) in files.sorted(by: { $0.key < $1.key }) {
            let filePath = "\(path)/\(file)"
            guard !file.contains("/"), FileIO.exists(filePath) else { throw .missingFile(file: filePath) }
            let actual = try SHA256.hex(ofFile: filePath)
            guard actual == expected.lowercased() else {
                throw .hashMismatch(file: filePath, expected: expected, actual: actual)
            }
        }
        return Checkpoint(path: path, files: files, stateJSON: stateJSON)
    }

    private func resolveLatest() throws(CheckpointError) -> CheckpointResolution? {
        let latestPath = "\(directory)/\(CheckpointWriter.latestFileName)"
        var named: String? = nil
        var reason: String
        if let bytes = try? FileIO.readFile(latestPath) {
            let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty || text.contains("/") || text.hasPrefix(".") {
                reason = "\(latestPath) holds '\(text)', not a checkpoint folder name"
            } else {
                named = text
                do {
                    return CheckpointResolution(checkpoint: try Self.open(folder: "\(directory)/\(text)"), fallback: nil)
                } catch {
                    reason = error.description
                }
            }
        } else {
            reason = "\(latestPath) is missing or unreadable"
        }

        var problems = [reason]
        let candidates = try CheckpointWriter.checkpointFolders(in: directory).filter { $0.name != named }
        if candidates.isEmpty && named == nil && !FileIO.exists(latestPath) { return nil }
        for candidate in candidates {
            do {
                let checkpoint = try Self.open(folder: "\(directory)/\(candidate.name)")
                return CheckpointResolution(checkpoint: checkpoint,
                                            fallback: .init(latestNamed: named, reason: reason))
            } catch {
                problems.append(error.description)
            }
        }
        throw .noCompleteCheckpoint(directory: directory, problems: problems)
    }
}
