import Foundation
import Testing
import SwConfig
import SwNN
import SwTrain

/// docs/config.md is the config reference: these tests keep it equal to what the parsers accept.
///
/// The code's key lists are not copied here: they are recorded while real parses run.
/// `ConfigSchema.recorder` receives every `ConfigValue.object(allowed:)` check (path, variant
/// such as `type=dense`, allowed keys) and every `string(oneOf:)` (path, choices). The parses
/// are every config of examples/ and Benchmarks/configs/, then one per choice of every `type`
/// and `kind` key the recording found (every optimizer, schedule, data kind and layer type,
/// `LayerRegistry.names` included), until nothing new turns up. The keys of each object are
/// compared both ways with the tables of docs/config.md, which say what they describe in
/// `<!-- config-keys: PATH[|PATH] [type=NAME] -->` comments. Every choice of an enumerated
/// string must be named in its key's row, and every default the resolved config fills in must
/// be the one the row's default column gives.
@Suite struct ConfigDocTests {
    /// Keys another branch is adding to the code right now; documented ahead of it. A key here
    /// may be in the doc without being in the code (never the reverse). Remove it once merged.
    static let pendingKeys: Set<String> = []

    @Test func everyKeyOfTheCodeIsDocumentedAndEveryDocumentedKeyExists() throws {
        let code = try CodeSchema.record()
        let doc = try DocSchema.read()
        var problems: [String] = []
        for (scope, allowed) in code.objects.sorted(by: { $0.key < $1.key }) {
            // An object without its `type` (a default applies) is recorded with that type too.
            if scope.variant == nil && code.hasVariants(scope.path) { continue }
            var documented = doc.keys[Scope(path: scope.path, variant: nil)] ?? []
            if scope.variant != nil {
                guard let own = doc.keys[scope] else {
                    problems.append("\(scope): in the code (keys \(allowed.sorted())), no table in docs/config.md")
                    continue
                }
                documented.formUnion(own)
            } else if doc.keys[scope] == nil {
                problems.append("\(scope): in the code (keys \(allowed.sorted())), no table in docs/config.md")
                continue
            }
            for key in allowed.subtracting(documented).sorted() {
                problems.append("\(scope): key \"\(key)\" is accepted by the code but not documented")
            }
            for key in documented.subtracting(allowed).sorted() where !Self.pendingKeys.contains(scope.keyPath(key)) {
                problems.append("\(scope): key \"\(key)\" is documented but the code does not accept it")
            }
        }
        let codePaths = Set(code.objects.keys.map(\.path))
        for scope in doc.keys.keys.sorted() {
            let known = scope.variant == nil ? codePaths.contains(scope.path) : code.objects[scope] != nil
            if !known { problems.append("\(scope): documented, but no such object in the code") }
        }
        #expect(problems.isEmpty, "docs/config.md and the config parsers disagree:\n\(problems.joined(separator: "\n"))")
    }

    /// Every layer type of `LayerRegistry` was reached by the recording and has its table.
    @Test func everyLayerTypeIsDocumented() throws {
        let code = try CodeSchema.record()
        let doc = try DocSchema.read()
        for name in LayerRegistry.names {
            let scope = Scope(path: "model.layers[]", variant: "type=\(name)")
            #expect(code.objects[scope] != nil, "layer type \(name) was never parsed by the recording")
            #expect(doc.keys[scope] != nil, "layer type \(name) has no <!-- config-keys: model.layers[] type=\(name) --> in docs/config.md")
        }
    }

    /// Every choice of an enumerated string (`"loss": "mse"`, `"sync": "allreduce"`) is named in
    /// its key's row.
    @Test func everyChoiceIsDocumented() throws {
        let code = try CodeSchema.record()
        let doc = try DocSchema.read()
        var problems: [String] = []
        for (path, choices) in code.choices.sorted(by: { $0.key < $1.key }) {
            guard let dot = path.lastIndex(of: ".") else { continue }
            let parent = String(path[..<dot]), key = String(path[path.index(after: dot)...])
            let rows = doc.rows.filter { $0.key.path == parent }.compactMap { $0.value[key] }
            if rows.isEmpty { problems.append("\(path): no row"); continue }
            for c in choices.sorted() where !rows.contains(where: { $0.contains("\"\(c)\"") || $0.contains("`\(c)`") }) {
                problems.append("\(path): choice \"\(c)\" not named in its row")
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// The default the doc gives for a key is the value the parser fills in when the key is
    /// left out (as `config.json` shows it), for every section and data kind the resolved
    /// config holds, with each optimizer and schedule type.
    @Test func everyDefaultIsDocumented() throws {
        let doc = try DocSchema.read()
        let fm = FileManager.default
        let scratch = fm.temporaryDirectory.appendingPathComponent("swtrain-configdoc-\(UUID().uuidString)")
        try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: scratch) }
        for file in ["t.txt", "d.csv"] { _ = fm.createFile(atPath: scratch.appendingPathComponent(file).path, contents: Data()) }
        let model = #""model": {"input": [40], "layers": [{"type": "dense", "units": 10}]}"#
        let sources = [#"{"train": {"kind": "mnist1d"}, "test": {"kind": "mnist1d"}}"#,
                       #"{"train": {"kind": "text", "path": "t.txt", "context": 4}, "test": {"kind": "csv", "path": "d.csv"}}"#]
        let sections = ["", #", "optimizer": {"type": "sgd"}, "schedule": {"type": "cosine"}"#,
                        #", "optimizer": {"type": "adamw"}, "schedule": {"type": "step", "step_size": 1}"#,
                        #", "optimizer": {"type": "adam"}, "schedule": {"type": "exponential", "gamma": 0.5}"#]
        var problems: [String] = [], checked = 0
        for data in sources {
            for extra in sections {
                let text = "{\"data\": \(data), \(model)\(extra)}"
                let config = try TrainConfig.parse(text: text, baseDirectory: scratch.path)
                let input = try ConfigValue.parse(text, file: nil).json
                DocSchema.compareDefaults(config.resolved, input: input, path: "", doc: doc, name: config.name,
                                          problems: &problems, checked: &checked)
            }
        }
        #expect(checked >= 30, "only \(checked) defaults were compared")
        #expect(problems.isEmpty, "\(Set(problems).sorted().joined(separator: "\n"))")
    }

    /// The recorder sees an object before its keys are checked, and only inside its scope.
    @Test func recorderSeesRejectedObjectsAndOnlyItsOwnScope() {
        let store = EventStore()
        ConfigSchema.$recorder.withValue({ store.add($0) }) {
            _ = try? TrainConfig.parse(text: baseConfig, overrides: ["optimizer.betta=1"])
        }
        _ = try? TrainConfig.parse(text: baseConfig, overrides: ["training.epochs=2"])
        let events = store.events
        #expect(events.contains(.object(path: "optimizer", variant: "type=adam", allowed: ["type", "lr", "betas", "eps", "weight_decay"])))
        #expect(!events.contains { if case .object("training", _, _) = $0 { return true }; return false },
                "the parse stopped at optimizer.betta, before training")
    }
}

/// An object of the config: a normalised path (`model.layers[]`, "" for the document) and,
/// for objects whose keys depend on their `type` or `kind`, that value (`type=dense`).
struct Scope: Hashable, Comparable, CustomStringConvertible {
    let path: String
    let variant: String?

    static func < (a: Scope, b: Scope) -> Bool { a.description < b.description }
    var description: String { (path.isEmpty ? "(root)" : path) + (variant.map { " " + $0 } ?? "") }
    func keyPath(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// `model.layers[2].layers[0]` -> `model.layers[]`: indices dropped, and the layers of a
    /// residual are the same objects as the top-level layers.
    static func normalise(_ path: String) -> String {
        var p = path.replacingOccurrences(of: #"\[\d+\]"#, with: "[]", options: .regularExpression)
        while p.contains(".layers[].layers[]") { p = p.replacingOccurrences(of: ".layers[].layers[]", with: ".layers[]") }
        return p
    }
}

/// Collects recorder events from any thread.
final class EventStore: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [ConfigSchema.Event] = []
    func add(_ e: ConfigSchema.Event) { lock.lock(); list.append(e); lock.unlock() }
    var events: [ConfigSchema.Event] { lock.lock(); defer { lock.unlock() }; return list }
}

/// The schema the code enforces, as recorded over parses of many configs.
struct CodeSchema {
    var objects: [Scope: Set<String>] = [:]
    var choices: [String: Set<String>] = [:]

    /// Whether the objects at `path` have a `type` or `kind` whose choices change their keys.
    func hasVariants(_ path: String) -> Bool {
        choices[Scope(path: path, variant: nil).keyPath("type")] != nil || choices[Scope(path: path, variant: nil).keyPath("kind")] != nil
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// A config to parse: its text and `--set` overrides.
    struct Document {
        var name: String
        var text: String
        var overrides: [String] = []
    }

    static func record() throws -> CodeSchema {
        let fm = FileManager.default
        // Every section left to its defaults, and the shared test config.
        let minimal = #"{"data": {"train": {"kind": "mnist1d"}}, "model": {"input": [40], "layers": [{"type": "dense", "units": 10}]}}"#
        var documents = [Document(name: "minimal", text: minimal), Document(name: "baseConfig", text: baseConfig)]
        for folder in ["examples", "Benchmarks/configs"] {
            let dir = repository.appendingPathComponent(folder)
            for file in try fm.contentsOfDirectory(atPath: dir.path).sorted() where file.hasSuffix(".json") {
                let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                documents.append(Document(name: "\(folder)/\(file)", text: text))
            }
        }
        #expect(documents.count >= 5, "expected the example configs in \(repository.path)/examples")

        // Data paths resolve against a scratch folder holding an empty file for each.
        let scratch = fm.temporaryDirectory.appendingPathComponent("swtrain-configdoc-\(UUID().uuidString)/configs")
        try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: scratch.deletingLastPathComponent()) }

        var schema = CodeSchema()
        var seenRaw: [(event: ConfigSchema.Event, from: Document)] = []
        var attempted = Set<String>()
        var queue = documents
        while !queue.isEmpty {
            for document in queue {
                for event in try parse(document, in: scratch) { seenRaw.append((event, document)); schema.add(event) }
            }
            queue = []
            // One more parse for each choice of a `type` or `kind` whose variant is still unseen.
            for (event, from) in seenRaw {
                guard case .choice(let path, let choices) = event, let dot = path.lastIndex(of: ".") else { continue }
                let parent = String(path[..<dot]), key = String(path[path.index(after: dot)...])
                guard key == "type" || key == "kind" else { continue }
                for c in choices {
                    let scope = Scope(path: Scope.normalise(parent), variant: "\(key)=\(c)")
                    guard schema.objects[scope] == nil, attempted.insert(scope.description).inserted else { continue }
                    queue.append(Document(name: "\(from.name) with \(path)=\(c)", text: from.text, overrides: from.overrides + ["\(path)=\(c)"]))
                }
            }
        }
        for (event, _) in seenRaw {
            guard case .choice(let path, let choices) = event, let dot = path.lastIndex(of: ".") else { continue }
            let key = String(path[path.index(after: dot)...])
            guard key == "type" || key == "kind" else { continue }
            for c in choices {
                #expect(schema.objects[Scope(path: Scope.normalise(String(path[..<dot])), variant: "\(key)=\(c)")] != nil,
                        "\(path)=\(c) never reached its object(allowed:) check")
            }
        }
        return schema
    }

    private mutating func add(_ event: ConfigSchema.Event) {
        switch event {
        case let .object(path, variant, allowed):
            objects[Scope(path: Scope.normalise(path), variant: variant), default: []].formUnion(allowed)
        case let .choice(path, choices):
            self.choices[Scope.normalise(path), default: []].formUnion(choices)
        }
    }

    /// The events of reading `document` as a config and building its model. Errors are
    /// expected for the discovery parses (a layer of another type keeps the old keys); they
    /// come after the object's check was recorded.
    private static func parse(_ document: Document, in scratch: URL) throws -> [ConfigSchema.Event] {
        try createDataFiles(document.text, in: scratch)
        let store = EventStore()
        ConfigSchema.$recorder.withValue({ store.add($0) }) {
            guard let config = try? TrainConfig.parse(text: document.text, file: document.name, baseDirectory: scratch.path,
                                                      overrides: document.overrides) else { return }
            _ = try? Model(config: config.model)
        }
        if document.overrides.isEmpty {
            // Examples must parse and build without errors.
            let config = try TrainConfig.parse(text: document.text, file: document.name, baseDirectory: scratch.path)
            _ = try Model(config: config.model)
        }
        return store.events
    }

    /// An empty file for every relative data path of the config (`path`, `inputs`, `labels`).
    private static func createDataFiles(_ text: String, in scratch: URL) throws {
        guard case .object(let root) = try ConfigValue.parse(text, file: nil).json,
              case .object(let data)? = root["data"] else { return }
        for (_, source) in data.pairs {
            guard case .object(let s) = source else { continue }
            for key in ["path", "inputs", "labels"] {
                guard case .string(let p)? = s[key], !p.hasPrefix("/") else { continue }
                let url = scratch.appendingPathComponent(p).standardizedFileURL
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                _ = FileManager.default.createFile(atPath: url.path, contents: Data())
            }
        }
    }
}

/// The keys docs/config.md documents, per object, read from its tables.
struct DocSchema {
    /// The keys of each table (an object with no keys but `type` has a marker and no table).
    var keys: [Scope: Set<String>] = [:]
    /// Each key's whole table row, for the choice check.
    var rows: [Scope: [String: String]] = [:]

    static func read() throws -> DocSchema {
        let url = CodeSchema.repository.appendingPathComponent("docs/config.md")
        return parse(try String(contentsOf: url, encoding: .utf8))
    }

    /// Compares each key of `resolved` that `input` leaves out with the default column of its
    /// row: one of the cell's `code` spans must be the same JSON value (`<name>` stands for the
    /// run's name). Recurses into objects, not into `model` (the parser keeps it as written).
    static func compareDefaults(_ resolved: JSON, input: JSON?, path: String, doc: DocSchema, name: String,
                                problems: inout [String], checked: inout Int) {
        guard case .object(let o) = resolved, path != "model" else { return }
        var given: JSONObject? = nil
        if case .object(let i)? = input { given = i }
        var variant: String? = nil
        for key in ["type", "kind"] { if case .string(let v)? = o[key] { variant = "\(key)=\(v)" } }
        let scopePath = Scope.normalise(path)
        for (key, value) in o.pairs {
            let child = path.isEmpty ? key : path + "." + key
            if case .object = value {
                compareDefaults(value, input: given?[key], path: child, doc: doc, name: name, problems: &problems, checked: &checked)
                continue
            }
            guard given?[key] == nil else { continue }
            let row = variant.flatMap { doc.rows[Scope(path: scopePath, variant: $0)]?[key] }
                ?? doc.rows[Scope(path: scopePath, variant: nil)]?[key]
            guard let row else { problems.append("\(child): no row"); continue }
            let cells = row.split(separator: "|", omittingEmptySubsequences: false)
            guard cells.count > 3 else { problems.append("\(child): row has no default column"); continue }
            let spans = cells[3].split(separator: "`", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset % 2 == 1 }.map { $0.element.replacingOccurrences(of: "<name>", with: name) }
            checked += 1
            if !spans.contains(where: { (try? JSON.parse($0)).map { sameValue($0, value) } ?? false }) {
                problems.append("\(child): the parser's default is \(value.serialized()), the doc says \(cells[3].trimmingCharacters(in: .whitespaces))")
            }
        }
    }

    /// Equal JSON values, numbers compared by value (`0` equals `0.0`).
    static func sameValue(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case let (.number(m), .number(n)):
            let x = m.double, y = n.double
            return x == y || abs(x - y) <= 1e-12 * max(abs(x), abs(y))
        case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy { sameValue($0, $1) }
        default: return a == b
        }
    }

    /// Markers `<!-- config-keys: a|b [type=x] -->` open scopes; the table that follows (after
    /// any further markers) gives their keys, one per row, the first `code` of the first cell.
    /// Any other text closes the open scopes.
    static func parse(_ text: String) -> DocSchema {
        var doc = DocSchema()
        var open: [Scope] = []
        var inTable = false
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("<!-- config-keys:") {
                if inTable { open = []; inTable = false }
                let body = line.dropFirst("<!-- config-keys:".count).replacingOccurrences(of: "-->", with: "")
                let words = body.split(separator: " ").map(String.init)
                let variant = words.count > 1 ? words[1] : nil
                for path in (words.first ?? "").split(separator: "|") {
                    let scope = Scope(path: path == "(root)" ? "" : String(path), variant: variant)
                    doc.keys[scope, default: []] = doc.keys[scope] ?? []
                    open.append(scope)
                }
                continue
            }
            if line.isEmpty { continue }
            guard line.hasPrefix("|"), !open.isEmpty else { open = []; inTable = false; continue }
            if !inTable { inTable = true; continue }  // the header row
            if line.hasPrefix("|---") || line.hasPrefix("| ---") { continue }
            let firstCell = line.dropFirst().split(separator: "|", maxSplits: 1).first ?? ""
            guard let start = firstCell.firstIndex(of: "`") else { continue }
            let rest = firstCell[firstCell.index(after: start)...]
            guard let end = rest.firstIndex(of: "`") else { continue }
            let key = String(rest[..<end])
            for scope in open {
                doc.keys[scope, default: []].insert(key)
                doc.rows[scope, default: [:]][key] = line
            }
        }
        return doc
    }
}
