import Foundation
import SwConfig
#if canImport(Glibc)
import Glibc
#endif

/// The operation codes of Optuna's journal storage (`optuna.storages.journal.JournalOperation`).
public enum JournalOp: Int, Sendable {
    case createStudy = 0, deleteStudy = 1, setStudyUserAttr = 2, setStudySystemAttr = 3, createTrial = 4,
         setTrialParam = 5, setTrialStateValues = 6, setTrialIntermediateValue = 7, setTrialUserAttr = 8,
         setTrialSystemAttr = 9
}

/// Appends operations to a journal file the way Optuna's `JournalFileBackend` writes them:
/// one compact JSON object per line (`{"op_code":4,"worker_id":"...",...}`, separators "," and
/// ":"), each line written with one `write` and made durable with `fsync` before the call
/// returns. Only one process (rank 0) writes, so no lock file is needed.
///
/// The fields of each operation are those of `JournalStorage`'s methods:
/// - 0 create study: `study_name`, `directions` (1 minimize, 2 maximize);
/// - 2/3 study user/system attr: `study_id`, `user_attr` / `system_attr` (`{key: value}`);
/// - 4 create trial: `study_id`, `datetime_start` (ISO 8601, microseconds); the trial's id is
///   the number of create-trial operations before it, its number the count within its study;
/// - 5 set param: `trial_id`, `param_name`, `param_value_internal`, `distribution` (a string:
///   Optuna's `distribution_to_json`);
/// - 6 set state and values: `trial_id`, `state` (0 running, 1 complete, 2 pruned, 3 fail),
///   `values` (a list or null), `datetime_complete` for a finished state;
/// - 7 intermediate value: `trial_id`, `step`, `intermediate_value`;
/// - 8/9 trial user/system attr: `trial_id`, `user_attr` / `system_attr`.
public final class JournalWriter {
    public let path: String
    /// Optuna's worker id: a UUID, "-", and a thread id (here the process id).
    public let workerID: String
    private let fd: Int32

    public init(path: String) throws {
        self.path = path
        workerID = UUID().uuidString.lowercased() + "-" + String(getpid())
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 {
            throw TuneError("\(path): cannot open the journal for appending (\(String(cString: strerror(errno))))\n  hint: check that the study folder is writable")
        }
    }

    deinit { close(fd) }

    /// Appends one operation: `op_code`, `worker_id`, then `fields` in order.
    public func append(_ op: JournalOp, _ fields: [(String, JSON)]) throws {
        var o = JSONObject([("op_code", .number(Double(op.rawValue), isInteger: true)), ("worker_id", .string(workerID))])
        for (k, v) in fields { o[k] = v }
        let line = Array((JSON.object(o).serialized() + "\n").utf8)
        try line.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { throw TuneError("\(path): cannot append to the journal (\(String(cString: strerror(errno))))") }
                done += n
            }
        }
        if fsync(fd) != 0 { throw TuneError("\(path): fsync failed (\(String(cString: strerror(errno))))") }
    }

    /// Now as Python's `datetime.now().isoformat(timespec="microseconds")` writes it.
    public static func now() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        var t = time_t(tv.tv_sec)
        var parts = tm()
        localtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(tv.tv_usec))
    }
}

/// A journal read back: the study's trials as `JournalStorage` would replay them.
public struct JournalReplay: Sendable {
    /// The study id of `studyName`, nil when the journal has no such study.
    public var studyID: Int?
    public var direction: Direction?
    public var studyUserAttrs: [String: JSON] = [:]
    /// The study's trials by number.
    public var trials: [TrialRecord] = []
    /// Each trial's journal-wide trial id, by number.
    public var trialIDs: [Int] = []
    /// Parameter distributions as the journal recorded them (path -> distribution).
    public var distributions: [String: Distribution] = [:]
    /// The byte length of the complete lines (a line cut short by a kill is not counted).
    public var validBytes = 0
    /// Complete lines read.
    public var lines = 0

    /// Replays the journal at `path` for the study `studyName`. A last line without its
    /// newline (a write cut short) is ignored, as Optuna's reader does; any other line that is
    /// not a journal operation is an error naming the line.
    public static func read(path: String, studyName: String) throws -> JournalReplay {
        var r = JournalReplay()
        guard let data = FileManager.default.contents(atPath: path) else { return r }
        let bytes = [UInt8](data)
        var start = 0
        var studyNames: [Int: String] = [:]
        var nextStudy = 0
        var trialStudy: [Int] = []          // study id per journal-wide trial id
        var numberOf: [Int: Int] = [:]      // trial id -> number in our study
        while let nl = bytes[start...].firstIndex(of: 0x0A) {
            let text = String(decoding: bytes[start..<nl], as: UTF8.self)
            r.lines += 1
            guard case .object(let o)? = try? JSON.parse(text), let code = o["op_code"]?.doubleValue,
                  let op = JournalOp(rawValue: Int(code)) else {
                throw TuneError("\(path): line \(r.lines) is not a journal operation: \(text.prefix(120))\n  hint: the file must be an Optuna journal written by swtrain tune or optuna")
            }
            func int(_ k: String) -> Int? { if let d = o[k]?.doubleValue { return Int(d) }; return nil }
            func attr(_ k: String) -> (String, JSON)? { if case .object(let a)? = o[k], let key = a.keys.first { return (key, a[key]!) }; return nil }
            func mine(_ trialID: Int?) -> Int? { trialID.flatMap { numberOf[$0] } }
            switch op {
            case .createStudy:
                if case .string(let name)? = o["study_name"], !studyNames.values.contains(name) {
                    studyNames[nextStudy] = name
                    if name == studyName {
                        r.studyID = nextStudy
                        if case .array(let d)? = o["directions"], let v = d.first?.doubleValue { r.direction = Direction(rawValue: Int(v)) }
                    }
                    nextStudy += 1
                }
            case .deleteStudy:
                if let id = int("study_id"), id == r.studyID { r.studyID = nil; r.trials = []; r.trialIDs = [] }
            case .setStudyUserAttr:
                if int("study_id") == r.studyID, let (k, v) = attr("user_attr") { r.studyUserAttrs[k] = v }
            case .setStudySystemAttr:
                break
            case .createTrial:
                let id = trialStudy.count
                let sid = int("study_id") ?? -1
                trialStudy.append(sid)
                if sid == r.studyID {
                    var t = TrialRecord(number: r.trials.count)
                    if let s = int("state"), let st = TrialState(rawValue: s) { t.state = st }
                    if case .string(let d)? = o["datetime_start"] { t.datetimeStart = d }
                    numberOf[id] = t.number
                    r.trials.append(t)
                    r.trialIDs.append(id)
                }
            case .setTrialParam:
                if let n = mine(int("trial_id")), !r.trials[n].state.isFinished, case .string(let name)? = o["param_name"],
                   let v = o["param_value_internal"]?.doubleValue {
                    r.trials[n].params[name] = v
                    if case .string(let d)? = o["distribution"], let dist = Distribution.fromOptunaJSON(d) { r.distributions[name] = dist }
                }
            case .setTrialStateValues:
                if let n = mine(int("trial_id")), !r.trials[n].state.isFinished, let s = int("state"), let st = TrialState(rawValue: s) {
                    r.trials[n].state = st
                    if case .array(let vs)? = o["values"], let v = vs.first?.doubleValue { r.trials[n].value = v }
                    if case .string(let d)? = o["datetime_complete"] { r.trials[n].datetimeComplete = d }
                }
            case .setTrialIntermediateValue:
                if let n = mine(int("trial_id")), !r.trials[n].state.isFinished, let step = int("step"),
                   let v = o["intermediate_value"]?.doubleValue {
                    r.trials[n].intermediate.append((step, v))
                }
            case .setTrialUserAttr:
                if let n = mine(int("trial_id")), !r.trials[n].state.isFinished, let (k, v) = attr("user_attr") { r.trials[n].userAttrs[k] = v }
            case .setTrialSystemAttr:
                if let n = mine(int("trial_id")), !r.trials[n].state.isFinished, let (k, v) = attr("system_attr") { r.trials[n].systemAttrs[k] = v }
            }
            start = nl + 1
            r.validBytes = start
        }
        r.nextTrialID = trialStudy.count
        return r
    }

    /// The id the next create-trial operation gets.
    public var nextTrialID = 0
}

/// A failure of the study itself (journal I/O, a bad journal): exit code 1.
public struct TuneError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
