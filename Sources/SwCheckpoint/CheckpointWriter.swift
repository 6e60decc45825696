#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The content of one file of a checkpoint folder.
public enum CheckpointFile {
    /// Bytes written as they are.
    case bytes([UInt8])
    /// Bytes written as they are.
    case data(Data)
    /// A safetensors file, written straight from its tensors.
    case safetensors(SafeTensorsWriter)
}

/// Writes checkpoint folders into a run folder atomically.
///
/// `write(step:files:state:)`:
/// 1. writes every file into `<dir>/.tmp-checkpoint-<step>-<pid>/` and fsyncs it;
/// 2. writes `trainer_state.json`: the caller's state object plus `"files"`, the SHA-256 of
///    every other file; fsyncs it and the folder;
/// 3. renames the folder to `<dir>/checkpoint-<step>` (an existing folder of that name is
///    first moved aside, then deleted once the new one is in place) and fsyncs `<dir>`;
/// 4. writes `latest.tmp` naming the folder, fsyncs it, renames it to `latest`, fsyncs `<dir>`;
/// 5. deletes the oldest `checkpoint-*` folders beyond `keepLast`, never the new one.
///
/// A crash at any point leaves either the previous `latest` and its complete folder, or the
/// new ones; stale `.tmp-*` folders are ignored by `CheckpointReader` and removed here.
public struct CheckpointWriter {
    /// The run folder (`checkpoint.dir`).
    public let directory: String
    /// How many `checkpoint-*` folders to keep; nil keeps all.
    public var keepLast: Int?

    /// The state file's name in every checkpoint folder.
    public static let stateFileName = "trainer_state.json"
    /// The pointer file's name in the run folder.
    public static let latestFileName = "latest"

    /// A writer into `directory` (created when missing) keeping the newest `keepLast` folders.
    public init(directory: String, keepLast: Int? = nil) {
        precondition(keepLast.map { $0 >= 1 } ?? true, "keepLast must be at least 1, got \(keepLast!)")
        self.directory = directory
        self.keepLast = keepLast
    }

    /// `"checkpoint-<step>"`.
    public static func folderName(step: Int) -> String { "checkpoint-\(step)" }

    /// Writes `files` and `trainer_state.json` (from `state`, which must encode as a JSON object
    /// without a `"files"` key) as `checkpoint-<step>`, then points `latest` at it.
    /// Returns the folder's path.
    @discardableResult
    public func write(step: Int, files: [String: CheckpointFile], state: some Encodable) throws(CheckpointError) -> String {
        precondition(step >= 0, "step must be non-negative, got \(step)")
        for name in files.keys {
            precondition(!name.isEmpty && !name.contains("/") && name != "." && name != ".."
                         && name != Self.stateFileName && !name.hasPrefix(".tmp-"),
                         "checkpoint file name '\(name)' must be a plain file name other than \(Self.stateFileName)")
        }
        _ = try Self.encodeState(state, hashes: [:])  // fail before touching the disk

        try makeDirectoryTree(directory)
        try removeStaleTemporaryFolders()

        let name = Self.folderName(step: step)
        let tmp = "\(directory)/.tmp-\(name)-\(getpid())"
        try FileIO.removeTree(tmp)
        try FileIO.makeDirectory(tmp)

        var hashes: [String: String] = [:]
        for fileName in files.keys.sorted() {
            let path = "\(tmp)/\(fileName)"
            switch files[fileName]! {
            case let .bytes(b): try FileIO.writeFile(path, b, durable: true)
            case let .data(d): try FileIO.writeFile(path, [UInt8](d), durable: true)
            case let .safetensors(w): try w.write(to: path, sync: true)
            }
            hashes[fileName] = try SHA256.hex(ofFile: path)
        }
        try FileIO.writeFile("\(tmp)/\(Self.stateFileName)", try Self.encodeState(state, hashes: hashes), durable: true)
        try FileIO.fsyncDirectory(tmp)

        let final = "\(directory)/\(name)"
        if FileIO.exists(final) {
            let aside = "\(directory)/.tmp-replaced-\(name)-\(getpid())"
            try FileIO.removeTree(aside)
            try FileIO.move(final, aside)
            try FileIO.move(tmp, final)
            try FileIO.fsyncDirectory(directory)
            try FileIO.removeTree(aside)
        } else {
            try FileIO.move(tmp, final)
            try FileIO.fsyncDirectory(directory)
        }

        let latestTmp = "\(directory)/\(Self.latestFileName).tmp"
        try FileIO.writeFile(latestTmp, Array("\(name)\n".utf8), durable: true)
        try FileIO.move(latestTmp, "\(directory)/\(Self.latestFileName)")
        try FileIO.fsyncDirectory(directory)

        try prune(keeping: name)
        return final
    }

    /// Writes byte files; see `write(step:files:state:)`.
    @discardableResult
    public func write(step: Int, files: [String: [UInt8]], state: some Encodable) throws(CheckpointError) -> String {
        try write(step: step, files: files.mapValues { CheckpointFile.bytes($0) }, state: state)
    }

    /// Deletes `.tmp-*` folders left by writers that died (those of live processes are kept).
    public func removeStaleTemporaryFolders() throws(CheckpointError) {
        guard FileIO.isDirectory(directory) else { return }
        for entry in try FileIO.list(directory) where entry.hasPrefix(".tmp-") {
            if let pid = entry.split(separator: "-").last.flatMap({ pid_t($0) }),
               pid != getpid(), kill(pid, 0) == 0 {
                continue  // another live process is writing it
            }
            try FileIO.removeTree("\(directory)/\(entry)")
        }
    }

    /// The `checkpoint-<step>` folders of `directory`, newest step first.
    static func checkpointFolders(in directory: String) throws(CheckpointError) -> [(name: String, step: Int)] {
        guard FileIO.isDirectory(directory) else { return [] }
        return try FileIO.list(directory).compactMap { entry -> (String, Int)? in
            guard entry.hasPrefix("checkpoint-"), let step = Int(entry.dropFirst("checkpoint-".count)),
                  step >= 0, FileIO.isDirectory("\(directory)/\(entry)") else { return nil }
            return (entry, step)
        }.sorted { $0.1 > $1.1 }
    }

    private func prune(keeping current: String) throws(CheckpointError) {
        guard let keepLast else { return }
        let others = try Self.checkpointFolders(in: directory).filter { $0.name != current }
        for old in others.dropFirst(keepLast - 1) {
            try FileIO.removeTree("\(directory)/\(old.name)")
        }
        try FileIO.fsyncDirectory(directory)
    }

    /// `mkdir -p`.
    private func makeDirectoryTree(_ path: String) throws(CheckpointError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/\(component)"
            if FileIO.isDirectory(prefix) { continue }
            guard mkdir(prefix, 0o755) == 0 || errno == EEXIST else { throw FileIO.error(prefix, "mkdir") }
        }
    }

    /// `state` as pretty, key-sorted JSON with `"files": hashes` added.
    static func encodeState(_ state: some Encodable, hashes: [String: String]) throws(CheckpointError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        do {
            let alone = try encoder.encode(state)
            guard let object = try JSONSerialization.jsonObject(with: alone) as? [String: Any] else {
                throw CheckpointError.invalidState(file: stateFileName, reason: "the trainer state must encode as a JSON object")
            }
            guard object["files"] == nil else {
                throw CheckpointError.invalidState(file: stateFileName, reason: "the trainer state must not have a 'files' key (the writer adds it)")
            }
            return [UInt8](try encoder.encode(StateWithFiles(state: state, files: hashes)))
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw .invalidState(file: stateFileName, reason: "cannot encode the trainer state: \(error)")
        }
    }
}

/// The caller's state with the `files` map encoded into the same JSON object.
private struct StateWithFiles<State: Encodable>: Encodable {
    let state: State
    let files: [String: String]

    private enum Key: String, CodingKey { case files }

    func encode(to encoder: any Encoder) throws {
        try state.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(files, forKey: .files)
    }
}
