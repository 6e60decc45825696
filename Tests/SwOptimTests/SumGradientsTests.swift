import Testing
import SwOptim
import SwTensor

/// `sumGradients`: the Float left-to-right sum over a range, into a separate buffer or into
/// one of the sources, zeroing exactly the range of the other sources when asked.
@Suite struct SumGradientsTests {
    /// `destination`: -1 a separate tensor, else the index of the source that is the destination.
    @Test(arguments: [-1, 0, 1, 2], [false, true])
    func sumsOverRange(destination: Int, zeroOthers: Bool) {
        let n = 77, range = 5..<70
        var rng = RNG(seed: 40 + UInt64(destination + 1))
        let sources = (0..<3).map { _ in randomTensor(n, &rng) }
        let originals = sources.map(\.array)
        let dst = destination < 0 ? randomTensor(n, &rng) : sources[destination]
        let dstBefore = dst.array
        sumGradients(sources, into: dst, range: range, zeroOthers: zeroOthers)

        let sum = floatSum(originals)
        let wantDst = (0..<n).map { range.contains($0) ? sum[$0] : dstBefore[$0] }
        #expect(bits(dst) == bits(wantDst), "destination")
        for (k, (s, original)) in zip(sources, originals).enumerated() where k != destination {
            let want = original.indices.map { zeroOthers && range.contains($0) ? Float(0) : original[$0] }
            #expect(bits(s) == bits(want), "source \(k)")
        }
    }

    /// A destination that is a different tensor viewing a source's memory counts as that source.
    @Test func destinationByPointer() {
        var rng = RNG(seed: 9)
        let a = randomTensor(33, &rng), b = randomTensor(33, &rng)
        let sum = floatSum([a.array, b.array])
        let alias = Tensor(viewing: b.pointer, shape: [33], owner: b)
        sumGradients([a, b], into: alias, range: 0..<33, zeroOthers: true)
        #expect(bits(b) == bits(sum))
        #expect(bits(a) == Array(repeating: 0, count: 33))
    }

    @Test func singleSourceCopies() {
        var rng = RNG(seed: 10)
        let a = randomTensor(19, &rng), dst = Tensor(zeros: [19])
        sumGradients([a], into: dst, range: 0..<19, zeroOthers: false)
        #expect(bits(dst) == bits(a))
    }
}
