import Foundation
import SwComm
import SwConfig

/// The messages between group leaders and rank 0, over the world communicator's Float
/// send/recv: element 0 is the byte count, then one UTF-8 byte of compact JSON per float
/// (bytes 0-255 are exact in a Float). A message is sent with just the floats it uses (a few
/// hundred, under MPI's eager limit, so a send never waits for the receiver) into a posted
/// receive buffer of `capacity` floats (MPI receives a shorter message into a larger buffer).
///
/// Requests (tag 7101, leader -> rank 0) and replies (tag 7102):
/// - `{"op":"next"}` -> `{"trial":n,"values":[...]}` or `{"done":true}`;
/// - `{"op":"report","trial":n,"step":s,"value":v,"every":e,"total":t}` -> `{"prune":bool}`
///   (no reply when the study has no pruner, so the leader does not wait for rank 0);
/// - `{"op":"finish","trial":n,"kind":"complete"|"pruned"|"failed","value":v,"steps":k,"error":"..."}`
///   (no reply).
/// MPI keeps the order of messages between two ranks on one tag, so a leader's finish always
/// arrives before its next request.
public enum Wire {
    public static let capacity = 16384
    static let requestTag = 7101
    static let replyTag = 7102

    /// Writes `json` into `buf` and returns the number of floats used.
    @discardableResult
    static func encode(_ json: JSON, into buf: UnsafeMutableBufferPointer<Float>) throws -> Int {
        let bytes = Array(json.serialized().utf8)
        guard bytes.count < buf.count else { throw TuneError("a study message of \(bytes.count) bytes exceeds \(buf.count - 1)\n  hint: use fewer or shorter parameters") }
        buf[0] = Float(bytes.count)
        for (i, b) in bytes.enumerated() { buf[i + 1] = Float(b) }
        return bytes.count + 1
    }

    static func decode(_ buf: UnsafeMutableBufferPointer<Float>) throws -> JSON {
        let n = Int(buf[0])
        guard n >= 0, n < buf.count else { throw TuneError("a study message is malformed (length \(buf[0]))") }
        let bytes = (0..<n).map { UInt8(buf[$0 + 1]) }
        do {
            return try JSON.parse(String(decoding: bytes, as: UTF8.self))
        } catch {
            throw TuneError("a study message is not JSON: \(error)")
        }
    }

    static func outcomeJSON(_ number: Int, _ o: TrialOutcome) -> JSON {
        var m = JSONObject([("op", .string("finish")), ("trial", .number(Double(number), isInteger: true)),
                            ("steps", .number(Double(o.steps), isInteger: true))])
        switch o.kind {
        case .complete(let v): m["kind"] = .string("complete"); m["value"] = .number(v, isInteger: false)
        case .pruned: m["kind"] = .string("pruned")
        case .failed(let e): m["kind"] = .string("failed"); m["error"] = .string(e)
        }
        return .object(m)
    }

    static func outcome(_ m: JSONObject) -> TrialOutcome {
        let steps = int(m["steps"]) ?? 0
        switch m["kind"] {
        case .string("complete")?: return TrialOutcome(.complete(double(m["value"]) ?? .nan), steps: steps)
        case .string("pruned")?: return TrialOutcome(.pruned, steps: steps)
        default:
            if case .string(let e)? = m["error"] { return TrialOutcome(.failed(e), steps: steps) }
            return TrialOutcome(.failed("unknown"), steps: steps)
        }
    }

    static func int(_ v: JSON?) -> Int? { if let d = v?.doubleValue { return Int(d) }; return nil }
    static func double(_ v: JSON?) -> Double? { if let d = v?.doubleValue { return d }; return nil }

    static func assignmentJSON(_ a: Assignment?) -> JSON {
        guard let a else { return .object(JSONObject([("done", .bool(true))])) }
        return .object(JSONObject([("trial", .number(Double(a.number), isInteger: true)),
                                   ("values", .array(a.values.map { .number($0, isInteger: false) }))]))
    }

    static func assignment(_ j: JSON) -> Assignment? {
        guard case .object(let o) = j, let n = int(o["trial"]), case .array(let vs)? = o["values"] else { return nil }
        return Assignment(number: n, values: vs.compactMap { double($0) })
    }
}

/// Where a group leader gets its trials and sends its reports: the study itself on rank 0,
/// or rank 0 over MPI on the other leaders.
public protocol TrialSource: AnyObject {
    func next() throws -> Assignment?
    func report(_ number: Int, step: Int, value: Double, context: PruneContext) throws -> Bool
    func finish(_ number: Int, _ outcome: TrialOutcome) throws
    /// Called between training steps: rank 0 serves the other groups' messages here.
    func idle() throws
}

/// Rank 0's source: the study, plus the service of the other groups' leaders.
public final class StudySource: TrialSource {
    public let study: Study
    let coordinator: Coordinator?
    /// Called after each finished trial (progress line, trials.csv).
    public var onFinish: ((Int, TrialOutcome) -> Void)?

    public init(study: Study, world: (any Communicator)?, leaders: [Int]) {
        self.study = study
        coordinator = world.flatMap { leaders.isEmpty ? nil : Coordinator(world: $0, leaders: leaders) }
        coordinator?.source = self
    }

    public func next() throws -> Assignment? { try study.next() }
    public func report(_ number: Int, step: Int, value: Double, context: PruneContext) throws -> Bool {
        try study.report(number, step: step, value: value, context: context)
    }
    public func finish(_ number: Int, _ outcome: TrialOutcome) throws { try finish(number, outcome, rank: 0) }

    func finish(_ number: Int, _ outcome: TrialOutcome, rank: Int) throws {
        try study.finish(number, outcome, rank: rank)
        onFinish?(number, outcome)
    }
    public func idle() throws { try coordinator?.poll() }

    /// Serves the other leaders until each has been told there is nothing left.
    public func serveUntilDone() throws { try coordinator?.serveUntilDone() }
}

/// Rank 0's side of the protocol: one posted receive per worker group leader, tested between
/// training steps, each message answered at once.
final class Coordinator {
    let world: any Communicator
    let leaders: [Int]
    weak var source: StudySource?
    private var buffers: [UnsafeMutableBufferPointer<Float>]
    private var requests: [CommRequest]
    private var open: [Bool]
    private let reply = UnsafeMutableBufferPointer<Float>.allocate(capacity: Wire.capacity)

    init(world: any Communicator, leaders: [Int]) {
        self.world = world
        self.leaders = leaders
        buffers = leaders.map { _ in UnsafeMutableBufferPointer<Float>.allocate(capacity: Wire.capacity) }
        requests = leaders.map { _ in CommRequest() }
        open = leaders.map { _ in true }
    }

    deinit {
        buffers.forEach { $0.deallocate() }
        reply.deallocate()
    }

    private var started = false

    private func post(_ i: Int) throws {
        try world.irecv(buffers[i], from: leaders[i], tag: Wire.requestTag, into: requests[i])
    }

    func poll() throws {
        if !started {
            started = true
            for i in leaders.indices { try post(i) }
        }
        for i in leaders.indices where open[i] {
            while open[i], try requests[i].test() {
                try handle(i, try Wire.decode(buffers[i]))
                if open[i] { try post(i) }
            }
        }
    }

    func serveUntilDone() throws {
        while open.contains(true) {
            try poll()
            if open.contains(true) { usleep(200) }
        }
    }

    private func send(_ json: JSON, to i: Int) throws {
        let n = try Wire.encode(json, into: reply)
        try world.send(UnsafeBufferPointer(rebasing: reply[0..<n]), to: leaders[i], tag: Wire.replyTag)
    }

    private func handle(_ i: Int, _ message: JSON) throws {
        guard let source, case .object(let m) = message, case .string(let op)? = m["op"] else {
            throw TuneError("rank \(leaders[i]) sent a malformed study message: \(message.serialized())")
        }
        switch op {
        case "next":
            let a = try source.next()
            try send(Wire.assignmentJSON(a), to: i)
            if a == nil { open[i] = false }
        case "report":
            let ctx = PruneContext(evalEvery: Wire.int(m["every"]) ?? 1, totalSteps: Wire.int(m["total"]) ?? 1, studyName: source.study.spec.name)
            let prune = try source.report(Wire.int(m["trial"]) ?? -1, step: Wire.int(m["step"]) ?? 0, value: Wire.double(m["value"]) ?? .nan, context: ctx)
            if source.study.spec.prunerKind != .none { try send(.object(JSONObject([("prune", .bool(prune))])), to: i) }
        case "finish":
            try source.finish(Wire.int(m["trial"]) ?? -1, Wire.outcome(m), rank: leaders[i])
        default:
            throw TuneError("rank \(leaders[i]) sent an unknown study message \"\(op)\"")
        }
    }
}

/// A worker group leader's source: rank 0, over MPI.
public final class RemoteSource: TrialSource {
    let world: any Communicator
    /// False when the study has no pruner: reports are then sent without waiting for an answer.
    let waitsForDecisions: Bool
    private let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: Wire.capacity)

    public init(world: any Communicator, waitsForDecisions: Bool = true) {
        self.world = world
        self.waitsForDecisions = waitsForDecisions
    }
    deinit { buffer.deallocate() }

    private func send(_ json: JSON) throws {
        let n = try Wire.encode(json, into: buffer)
        try world.send(UnsafeBufferPointer(rebasing: buffer[0..<n]), to: 0, tag: Wire.requestTag)
    }

    private func receive() throws -> JSON {
        try world.recv(buffer, from: 0, tag: Wire.replyTag)
        return try Wire.decode(buffer)
    }

    public func next() throws -> Assignment? {
        try send(.object(JSONObject([("op", .string("next"))])))
        return Wire.assignment(try receive())
    }

    public func report(_ number: Int, step: Int, value: Double, context: PruneContext) throws -> Bool {
        try send(.object(JSONObject([("op", .string("report")), ("trial", .number(Double(number), isInteger: true)),
                                     ("step", .number(Double(step), isInteger: true)), ("value", .number(value, isInteger: false)),
                                     ("every", .number(Double(context.evalEvery), isInteger: true)),
                                     ("total", .number(Double(context.totalSteps), isInteger: true))])))
        if !waitsForDecisions { return false }
        guard case .object(let o) = try receive(), case .bool(let p)? = o["prune"] else { throw TuneError("rank 0 sent a malformed prune decision") }
        return p
    }

    public func finish(_ number: Int, _ outcome: TrialOutcome) throws { try send(Wire.outcomeJSON(number, outcome)) }
    public func idle() throws {}
}

/// A trial group's view: the leader (group rank 0) talks to its source and shares each
/// answer with the rest of the group by broadcast, so every rank of the group trains the same
/// trial and stops at the same eval point.
public final class GroupChannel {
    let source: (any TrialSource)?
    public let group: any Communicator
    private let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: Wire.capacity)

    /// `source` is non-nil exactly on the group's rank 0.
    public init(source: (any TrialSource)?, group: any Communicator) {
        self.source = source
        self.group = group
    }
    deinit { buffer.deallocate() }

    public func next() throws -> Assignment? {
        if let source { try Wire.encode(Wire.assignmentJSON(try source.next()), into: buffer) }
        if group.size > 1 { try group.broadcast(buffer, root: 0) }
        return Wire.assignment(try Wire.decode(buffer))
    }

    public func report(_ number: Int, step: Int, value: Double, context: PruneContext) throws -> Bool {
        var flag: [Float] = [0]
        if let source { flag[0] = try source.report(number, step: step, value: value, context: context) ? 1 : 0 }
        if group.size > 1 { try flag.withUnsafeMutableBufferPointer { try group.broadcast($0, root: 0) } }
        return flag[0] != 0
    }

    public func finish(_ number: Int, _ outcome: TrialOutcome) throws { try source?.finish(number, outcome) }
    public func idle() throws { try source?.idle() }

    /// Runs trials from the source until it has none left.
    public func runAll(_ objective: (Assignment, GroupChannel) throws -> TrialOutcome) throws {
        while let a = try next() {
            let outcome = try objective(a, self)
            try finish(a.number, outcome)
        }
    }
}
