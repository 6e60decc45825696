/// A JSON number as its text wrote it. An integer literal (no fraction, no exponent) whose
/// magnitude fits in 64 bits is kept exactly, so a byte offset past 2^53 (where `Double` starts
/// to round) reads back as written; every number also carries its nearest `Double`.
public struct JSONNumber: Equatable, Sendable, CustomStringConvertible {
    /// The nearest `Double` (integers above 2^53 may round).
    public let double: Double
    /// Whether the text was an integer literal.
    public let isInteger: Bool
    /// |value| of an integer literal when it fits in `UInt64`, else nil.
    private let magnitude: UInt64?
    /// Sign of an exact nonzero integer (so -0 and 0 are the same integer).
    private let isNegative: Bool

    /// A number from a `Double`; `isInteger` says it is written as an integer (kept exactly
    /// when `value` is integral and its magnitude fits in `UInt64`).
    public init(_ value: Double, isInteger: Bool) {
        double = value
        self.isInteger = isInteger
        magnitude = isInteger ? UInt64(exactly: value.magnitude) : nil
        isNegative = value < 0 && magnitude != nil
    }

    /// The exact integer `value`.
    public init(_ value: Int) {
        double = Double(value)
        isInteger = true
        magnitude = UInt64(value.magnitude)
        isNegative = value < 0
    }

    /// The exact integer `value`.
    public init(_ value: UInt64) {
        double = Double(value)
        isInteger = true
        magnitude = value
        isNegative = false
    }

    /// An integer literal: its magnitude (nil past `UInt64.max`), its sign, and the nearest
    /// `Double` of its text (used when the magnitude overflowed).
    init(integerMagnitude: UInt64?, negative: Bool, approximate: Double) {
        isInteger = true
        magnitude = integerMagnitude
        isNegative = negative && (integerMagnitude ?? 1) != 0
        if let m = integerMagnitude {
            double = negative ? -Double(m) : Double(m)   // Double(UInt64) rounds to nearest
        } else {
            double = approximate
        }
    }

    /// The exact value as an `Int`: an integer literal within `Int`'s range, else nil.
    public var int: Int? {
        guard let m = magnitude else { return nil }
        if isNegative { return m <= UInt64(Int.max) + 1 ? Int(truncatingIfNeeded: 0 &- m) : nil }
        return m <= UInt64(Int.max) ? Int(m) : nil
    }

    /// The exact value as a `UInt64`: a non-negative integer literal up to 2^64 - 1, else nil.
    public var uint64: UInt64? { isNegative ? nil : magnitude }

    /// The number as JSON text: an exact integer in digits, any other number with enough
    /// digits to read back the same `Double`.
    public var description: String {
        if let m = magnitude { return (isNegative ? "-" : "") + String(m) }
        if isInteger, let i = Int(exactly: double) { return String(i) }
        return "\(double)"
    }
}
