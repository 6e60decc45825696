import Testing
import SwTensor
@testable import SwOptim

@Suite struct GradClipTests {
    func random(_ n: Int, seed: UInt64, scale: Float) -> Tensor {
        var rng = RNG(seed: seed)
        let t = Tensor(zeros: [n])
        rng.fillNormal(t, std: scale)
        return t
    }

    func doubleNorm(_ xs: [Float]) -> Double { xs.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }

    @Test(arguments: [1, 7, 8, 37, 1000])
    func squaredNormMatchesDouble(n: Int) {
        let t = random(n, seed: UInt64(n), scale: 3)
        let want = t.array.reduce(0.0) { $0 + Double($1) * Double($1) }
        #expect(abs(GradClip.squaredNorm(t) - want) <= 1e-12 * want)
    }

    @Test(arguments: [5, 37, 1000])
    func clipsToMaxNorm(n: Int) {
        let t = random(n, seed: 1 + UInt64(n), scale: 2)
        let g = t.array
        let norm = doubleNorm(g)
        let maxNorm: Float = 1
        let returned = clipGradNorm(gradients: t, maxNorm: maxNorm)
        #expect(abs(returned - norm) <= 1e-12 * norm)
        let coef = Double(maxNorm) / (norm + 1e-6)
        #expect(relativeError(t.array, g.map { Double($0) * coef }) < 1e-6)
        #expect(abs(doubleNorm(t.array) - Double(maxNorm)) < 1e-5)
    }

    @Test func belowMaxNormIsUntouched() {
        let t = random(37, seed: 3, scale: 0.01)
        let g = t.array
        let norm = clipGradNorm(gradients: t, maxNorm: 10)
        #expect(abs(norm - doubleNorm(g)) <= 1e-12 * norm)
        #expect(t.array == g)
    }

    /// The total norm counts the extra squared norm, and the split API gives the same result.
    @Test func extraSquaredNormAndSplitAPI() {
        let a = random(40, seed: 4, scale: 1), b = random(23, seed: 5, scale: 1)
        let a2 = a.copy(), b2 = b.copy()
        let total = doubleNorm(a.array + b.array)
        let norm = clipGradNorm(gradients: a, maxNorm: 0.5, extraSquaredNorm: GradClip.squaredNorm(b))
        #expect(abs(norm - total) <= 1e-12 * total)

        // As a distributed caller does: local squared norms, summed ("all-reduced"), then scale.
        let summed = GradClip.squaredNorm(a2) + GradClip.squaredNorm(b2)
        let c = GradClip.coefficient(norm: summed.squareRoot(), maxNorm: 0.5)!
        GradClip.scale(a2, by: c)
        GradClip.scale(b2, by: c)
        #expect(a.array == a2.array)
        #expect(abs(doubleNorm(a2.array + b2.array) - 0.5) < 1e-5)
        #expect(GradClip.coefficient(norm: 0.1, maxNorm: 0.5) == nil)
    }
}
