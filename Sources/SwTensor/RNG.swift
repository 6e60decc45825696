import CGemm

/// A counter-based random number generator: Philox4x32-10 (Salmon et al., SC'11).
///
/// The whole state is a 64-bit key (the seed) and a 64-bit counter, so it is saved and restored
/// exactly (`state`, `init(state:)`), and independent streams come from `fork(_:)` without any
/// shared mutable state: a layer's dropout stream, a data shuffle and the parameter
/// initialisation each get their own key derived from the run's seed.
public struct RNG: Sendable, Equatable {
    /// The complete state: restoring it replays the same numbers.
    public struct State: Codable, Sendable, Equatable {
        /// The stream's key (derived from the seed).
        public var key: UInt64
        /// The next Philox block to generate.
        public var counter: UInt64
        /// Words of the previous block not yet drawn (0 to 3).
        public var remaining: Int
        public init(key: UInt64, counter: UInt64, remaining: Int = 0) {
            self.key = key; self.counter = counter; self.remaining = remaining
        }
    }

    public private(set) var key: UInt64
    public private(set) var counter: UInt64
    private var cache: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
    private var cached = 0

    /// A generator for `seed`, at counter 0.
    public init(seed: UInt64) {
        key = seed
        counter = 0
    }

    /// A generator at a saved state.
    public init(state: State) {
        key = state.key
        counter = state.counter
        precondition((0...3).contains(state.remaining), "RNG state: remaining must be 0...3")
        if state.remaining > 0 {
            cache = RNG.philox(counter: counter &- 1, key: key)
            cached = state.remaining
        }
    }

    /// The exact state: restoring it continues the same sequence from the same word.
    public var state: State { State(key: key, counter: counter, remaining: cached) }

    /// An independent stream for `stream` (a layer index, a purpose), derived from this key.
    public func fork(_ stream: UInt64) -> RNG {
        RNG(seed: RNG.mix(key &+ 0x9E37_79B9_7F4A_7C15 &* (stream &+ 1)))
    }

    /// SplitMix64 finaliser: a well-mixed 64-bit key from a structured one.
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Philox4x32 with 10 rounds on (counter, key).
    @inline(__always)
    static func philox(counter: UInt64, key: UInt64) -> (UInt32, UInt32, UInt32, UInt32) {
        var c0 = UInt32(truncatingIfNeeded: counter), c1 = UInt32(truncatingIfNeeded: counter >> 32)
        var c2: UInt32 = 0, c3: UInt32 = 0
        var k0 = UInt32(truncatingIfNeeded: key), k1 = UInt32(truncatingIfNeeded: key >> 32)
        for _ in 0..<10 {
            let p0 = UInt64(0xD251_1F53) &* UInt64(c0)
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
            let n0 = UInt32(truncatingIfNeeded: p1 >> 32) ^ c1 ^ k0
            let n1 = UInt32(truncatingIfNeeded: p1)
            let n2 = UInt32(truncatingIfNeeded: p0 >> 32) ^ c3 ^ k1
            let n3 = UInt32(truncatingIfNeeded: p0)
            c0 = n0; c1 = n1; c2 = n2; c3 = n3
            k0 = k0 &+ 0x9E37_79B9
            k1 = k1 &+ 0xBB67_AE85
        }
        return (c0, c1, c2, c3)
    }

    public static func == (a: RNG, b: RNG) -> Bool { a.state == b.state }

    /// One raw Philox block (for known-answer tests).
    public static func philoxBlock(counter: UInt64, key: UInt64) -> [UInt32] {
        let r = philox(counter: counter, key: key)
        return [r.0, r.1, r.2, r.3]
    }

    /// The next 32 random bits.
    @inline(__always)
    public mutating func nextUInt32() -> UInt32 {
        if cached == 0 {
            cache = RNG.philox(counter: counter, key: key)
            counter &+= 1
            cached = 4
        }
        cached -= 1
        switch cached {
        case 3: return cache.0
        case 2: return cache.1
        case 1: return cache.2
        default: return cache.3
        }
    }

    /// The next 64 random bits.
    public mutating func nextUInt64() -> UInt64 {
        UInt64(nextUInt32()) << 32 | UInt64(nextUInt32())
    }

    /// Uniform in [0, 1) with 24 random bits.
    @inline(__always)
    public mutating func uniform() -> Float {
        Float(nextUInt32() >> 8) * (1.0 / 16_777_216.0)
    }

    /// Uniform in [low, high).
    @inline(__always)
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * uniform()
    }

    /// Uniform Double in [0, 1) with 53 random bits.
    public mutating func uniformDouble() -> Double {
        Double(nextUInt64() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Standard normal (Box-Muller, one value per call).
    public mutating func normal() -> Float {
        var u1 = uniformDouble()
        while u1 <= 0 { u1 = uniformDouble() }
        let u2 = uniformDouble()
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }

    /// Uniform integer in 0..<n without modulo bias (Lemire's method).
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        var x = nextUInt64()
        var m = x.multipliedFullWidth(by: bound)
        if m.low < bound {
            let t = (0 &- bound) % bound
            while m.low < t {
                x = nextUInt64()
                m = x.multipliedFullWidth(by: bound)
            }
        }
        return Int(m.high)
    }

    /// A uniformly random permutation of 0..<n (Fisher-Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) {
                p.swapAt(i, below(i + 1))
            }
        }
        return p
    }

    /// `mask[i] = keep` when the `i`-th `uniform()` from here is `>= p`, else 0, for
    /// `i < count`; the stream ends where `count` calls of `uniform()` would leave it, and the
    /// mask has the same bits. Philox blocks are independent, so whole blocks of 4 values run
    /// over `ThreadPool` in fixed chunks (any thread count gives the same mask), each chunk in
    /// CGemm's `swt_dropout_mask` (16 blocks per AVX-512 step, or the portable loop: the same
    /// bits): a dropout mask.
    public mutating func fillDropoutMask(_ mask: UnsafeMutablePointer<Float>, count: Int, p: Float, keep: Float) {
        var i = 0
        while i < count && cached > 0 { mask[i] = uniform() >= p ? keep : 0; i += 1 }
        let blocks = (count - i) / 4
        if blocks > 0 {
            let base = counter, key = key, start = mask + i
            let portable: Int32 = GEMMKernels.enabled ? 0 : 1
            ThreadPool.forBlocks(count: blocks, block: RNG.maskBlocksPerTask) { r in
                swt_dropout_mask(r.count, base &+ UInt64(r.lowerBound), key, p, keep,
                                 start + 4 * r.lowerBound, portable)
            }
            counter &+= UInt64(blocks)
            i += 4 * blocks
        }
        while i < count { mask[i] = uniform() >= p ? keep : 0; i += 1 }
    }

    /// Philox blocks (4 values each) per pool task of `fillDropoutMask`.
    static let maskBlocksPerTask = 8 * 1024

    /// Fills `t` with uniform values in [low, high).
    public mutating func fillUniform(_ t: Tensor, _ low: Float, _ high: Float) {
        for i in 0..<t.count { t.pointer[i] = uniform(low, high) }
    }

    /// Fills `t` with normal values of mean `mean` and standard deviation `std`.
    public mutating func fillNormal(_ t: Tensor, mean: Float = 0, std: Float = 1) {
        for i in 0..<t.count { t.pointer[i] = mean + std * normal() }
    }
}

import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
