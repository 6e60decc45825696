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

/// `fillDropoutMask` (blocks of the stream over the pool) is `count` calls of `uniform()`.
@Suite(.serialized) struct DropoutMaskTests {
    @Test(arguments: [1, 2, 3])
    func sameBitsAndStreamAsUniformCalls(threads: Int) {
        ThreadPool.exclusive {
            ThreadPool.setThreads(threads)
            for skip in 0..<5 {
                for count in [0, 1, 3, 4, 7, 100, 3 * 32 * 1024 + 5] {
                    var a = RNG(seed: 9), b = RNG(seed: 9)
                    for _ in 0..<skip { _ = a.uniform(); _ = b.uniform() }
                    let p: Float = 0.3, keep: Float = 1 / 0.7
                    var mask = [Float](repeating: -1, count: count)
                    mask.withUnsafeMutableBufferPointer { a.fillDropoutMask($0.baseAddress!, count: count, p: p, keep: keep) }
                    let expected = (0..<count).map { _ in b.uniform() >= p ? keep : 0 }
                    #expect(mask == expected, "skip \(skip) count \(count)")
                    #expect(a == b, "skip \(skip) count \(count): the stream continues where the calls leave it")
                    #expect(a.uniform() == b.uniform())
                }
            }
        }
    }

    /// The 16-lane kernel and the portable loop against `uniform()` calls where the counter's
    /// low word (and, last, the whole counter) wraps inside one 16-block step, and with a
    /// remainder of blocks after the last full step.
    @Test(arguments: [CPU.KernelPath.native, .portable])
    func counterCarryAndRemainder(path: CPU.KernelPath) {
        for start: UInt64 in [0, 0xFFFF_FFF5, 0x1_FFFF_FFFF, 0xFFFF_FFFF_FFFF_FFF9] {
            for count in [4 * 16, 4 * 37 + 2, 4 * 16 * 9] {
                let state = RNG.State(key: 0x0123_4567_89AB_CDEF, counter: start)
                var a = RNG(state: state), b = RNG(state: state)
                let p: Float = 0.55, keep: Float = 1 / 0.45
                var mask = [Float](repeating: -1, count: count)
                CPU.withKernelPath(path) {
                    mask.withUnsafeMutableBufferPointer { a.fillDropoutMask($0.baseAddress!, count: count, p: p, keep: keep) }
                }
                let expected = (0..<count).map { _ in b.uniform() >= p ? keep : 0 }
                #expect(mask == expected, "\(path) counter \(start) count \(count)")
                #expect(a == b, "\(path) counter \(start) count \(count)")
            }
        }
    }
}
