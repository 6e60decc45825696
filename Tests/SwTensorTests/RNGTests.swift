import Testing
import SwTensor

@Suite struct RNGTests {
    @Test func stateRestoresMidBlock() {
        var a = RNG(seed: 42)
        for _ in 0..<7 { _ = a.nextUInt32() }      // stop inside a block of four
        var b = RNG(state: a.state)
        for _ in 0..<20 { #expect(a.nextUInt32() == b.nextUInt32()) }
    }

    @Test func philoxKnownAnswer() {
        // Random123 known-answer test for philox4x32-10, counter = 0, key = 0:
        // 6627e8d5 e169c58d bc57ac4c 9b00dbd8. Our counter occupies words 0 and 1.
        let r = RNG.philoxBlock(counter: 0, key: 0)
        #expect(r == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8])
    }

    @Test func uniformMomentsAndPermutation() {
        var rng = RNG(seed: 3)
        var sum = 0.0, sq = 0.0
        let n = 200_000
        for _ in 0..<n { let u = Double(rng.uniform()); sum += u; sq += u * u }
        #expect(abs(sum / Double(n) - 0.5) < 0.005)
        #expect(abs(sq / Double(n) - 1.0 / 3.0) < 0.005)
        let p = rng.permutation(1000)
        #expect(p.sorted() == Array(0..<1000))
        #expect(p != Array(0..<1000))
    }

    @Test func normalMoments() {
        var rng = RNG(seed: 9)
        var sum = 0.0, sq = 0.0
        let n = 100_000
        for _ in 0..<n { let v = Double(rng.normal()); sum += v; sq += v * v }
        #expect(abs(sum / Double(n)) < 0.02)
        #expect(abs(sq / Double(n) - 1) < 0.02)
    }

    @Test func forkedStreamsDiffer() {
        let base = RNG(seed: 5)
        var a = base.fork(0), b = base.fork(1)
        #expect(a.nextUInt64() != b.nextUInt64())
    }
}
