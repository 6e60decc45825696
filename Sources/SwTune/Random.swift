import Foundation
import SwTensor

/// SplitMix64 (Steele, Lea, Flood 2014): a small seeded generator. A sampler draws a trial's
/// values from `TuneRandom(seed:, stream:)` with the trial number as stream, so the values
/// depend only on the seed, the trial number and the history, never on timing or on how
/// many draws earlier trials made (a resumed study samples what an uninterrupted one would).
public struct TuneRandom: Sendable {
    private var state: UInt64

    public init(seed: UInt64, stream: UInt64 = 0) {
        state = seed
        state = next() ^ (stream &* 0xD1B5_4A32_D192_ED03)
        _ = next()
    }

    public mutating func next() -> UInt64 {
        // SplitMix64's step: advance by the golden gamma, return the finaliser of the new
        // state (`RNG.mix` adds the gamma itself, so it takes the old state).
        defer { state &+= 0x9E37_79B9_7F4A_7C15 }
        return RNG.mix(state)
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in [lo, hi].
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * uniform() }

    /// Uniform in 0..<n.
    public mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// An index drawn with probabilities proportional to `weights`.
    public mutating func pick(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var u = uniform() * total
        for (i, w) in weights.enumerated() {
            u -= w
            if u < 0 { return i }
        }
        return weights.count - 1
    }
}
