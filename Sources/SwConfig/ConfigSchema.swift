/// What the config readers accept, reported as they read: the keys allowed in each object and
/// the choices of each enumerated string.
///
/// Readers report through `ConfigValue.object(allowed:)` and the `string(oneOf:)` accessors;
/// nothing else needs to know. A test sets `recorder` for the duration of a parse to learn the
/// schema the code really enforces (the reference in docs/config.md is checked against it):
///
/// ```swift
/// ConfigSchema.$recorder.withValue({ event in store.add(event) }) {
///     _ = try? TrainConfig.parse(text: text)
/// }
/// ```
///
/// `recorder` is a task-local value, so a recording sees only the parses of its own task (tests
/// running in parallel do not mix), and with no recorder a reader pays one task-local read per
/// object or enumerated string, nothing more (no event is built, nothing is allocated).
public enum ConfigSchema {
    /// One check a reader made.
    public enum Event: Sendable, Hashable {
        /// An object at `path` (like `model.layers[3]`) whose keys must be in `allowed`.
        /// `variant` is `"type=<value>"` or `"kind=<value>"` when `type` or `kind` is an allowed
        /// key and the object holds a string there (the keys of such objects depend on it).
        /// Reported before the keys are checked, so also for an object that is then rejected.
        case object(path: String, variant: String?, allowed: [String])
        /// A string at `path` that must be one of `choices`; reported also when the key is absent
        /// and a default applies.
        case choice(path: String, choices: [String])
    }

    /// The function that receives every event, or nil (the default) to record nothing.
    @TaskLocal public static var recorder: (@Sendable (Event) -> Void)? = nil

    /// Passes the event to the recorder when there is one; builds it only then.
    @inline(__always)
    static func report(_ event: @autoclosure () -> Event) {
        if let recorder { recorder(event()) }
    }

    /// `"type=dense"` for an object holding `"type": "dense"` when `type` is allowed (else the
    /// same for `kind`), nil otherwise.
    static func variant(of object: JSONObject, allowed: [String]) -> String? {
        for key in ["type", "kind"] where allowed.contains(key) {
            if case .string(let s)? = object[key] { return "\(key)=\(s)" }
        }
        return nil
    }
}
