import SwConfig

/// The config's `quantization` section: quantization-aware training (docs/quantize.md).
public struct QuantizationConfig: Sendable {
    /// Whether training fake-quantizes every `dense`, `conv1d` and `conv2d` (weights and inputs).
    public var aware: Bool
    /// The first step whose forward fake-quantizes (the observers record from step 0).
    public var startStep: Int
    /// `minmax` (running min / max) or `ema` (moving average of each step's min / max, 0.01).
    public var observer: String
    /// Steps after which the activation ranges stay fixed (nil: never frozen).
    public var freezeObserversStep: Int?
    var json: JSON

    static let observers = ["minmax", "ema"]

    init(_ v: ConfigValue) throws(ConfigError) {
        let o = try v.object(allowed: ["aware", "start_step", "observer", "freeze_observers_step"])
        aware = try o.bool("aware", default: false)
        startStep = try o.int("start_step", default: 0, in: 0...Int.max)
        observer = try o.string("observer", default: "minmax", oneOf: Self.observers)
        freezeObserversStep = try o.optionalInt("freeze_observers_step", in: 0...Int.max)
        json = .object(JSONObject([
            ("aware", .bool(aware)), ("start_step", .number(Double(startStep), isInteger: true)),
            ("observer", .string(observer)),
            ("freeze_observers_step", freezeObserversStep.map { .number(Double($0), isInteger: true) } ?? .null),
        ]))
    }
}
