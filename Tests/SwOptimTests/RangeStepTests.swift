import Testing
import SwOptim
import SwTensor

/// A pipeline stage updates only its slice: inside the range the result equals a full
/// update, outside it nothing changes (parameters and state).
@Suite struct RangeStepTests {
    /// SGD with momentum and L2, Adam with L2, or AdamW, over `count` elements.
    static func optimizer(_ kind: String, count n: Int) -> any Optimizer {
        switch kind {
        case "sgd": return SGD(count: n, momentum: 0.9, weightDecay: 0.01)
        case "adam": return Adam(count: n, weightDecay: 0.01)
        default: return AdamW(count: n)
        }
    }

    @Test(arguments: ["sgd", "adam", "adamw"])
    func rangeStepUpdatesOnlyTheSlice(kind: String) {
        let n = 53, range = 17..<41
        func make() -> any Optimizer { Self.optimizer(kind, count: n) }
        var rng = RNG(seed: 4)
        let p0 = Tensor(zeros: [n]); rng.fillUniform(p0, -1, 1)
        let full = p0.copy(), part = p0.copy()
        let a = make(), b = make()
        for _ in 0..<3 {
            let g = Tensor(zeros: [n]); rng.fillUniform(g, -1, 1)
            a.step(parameters: full, gradients: g, lr: 0.1)
            b.step(parameters: part, gradients: g, lr: 0.1, range: range)
        }
        for i in 0..<n {
            #expect(part[flat: i] == (range.contains(i) ? full[flat: i] : p0[flat: i]), "element \(i)")
        }
        for ((_, sa), (_, sb)) in zip(a.stateTensors, b.stateTensors) {
            for i in 0..<n { #expect(sb[flat: i] == (range.contains(i) ? sa[flat: i] : 0)) }
        }
    }

    /// A step applied in pieces (`stepCount += 1`, then `update` over disjoint ranges, each
    /// reading its gradient from its own block) equals one whole step, bit for bit, for three
    /// steps (so Adam's bias correction is counted once per step); a zeroed piece's gradient
    /// is 0 afterwards, an unzeroed one is left as it was.
    @Test(arguments: ["sgd", "adam", "adamw"])
    func piecesEqualOneStep(kind: String) {
        let n = 70, cuts = [0, 9, 40, 41, 70]
        func make() -> any Optimizer { Self.optimizer(kind, count: n) }
        var rng = RNG(seed: 5)
        let whole = Tensor(zeros: [n]); rng.fillUniform(whole, -1, 1)
        let pieces = whole.copy()
        let a = make(), b = make()
        for step in 0..<3 {
            let g = Tensor(zeros: [n]); rng.fillUniform(g, -1, 1)
            a.step(parameters: whole, gradients: g, lr: 0.1)
            b.stepCount += 1
            for k in 0..<(cuts.count - 1) {
                let r = cuts[k]..<cuts[k + 1]
                let block = Tensor(zeros: [r.count])
                for i in r { block[flat: i - r.lowerBound] = g[flat: i] }
                let zero = (k + step) % 2 == 0
                b.update(parameters: pieces, gradient: block.pointer, lr: 0.1, range: r, zeroGradient: zero)
                for i in r { #expect(block[flat: i - r.lowerBound] == (zero ? 0 : g[flat: i])) }
            }
            #expect(b.stepCount == a.stepCount)
        }
        for i in 0..<n { #expect(pieces[flat: i].bitPattern == whole[flat: i].bitPattern, "element \(i)") }
        for ((_, sa), (_, sb)) in zip(a.stateTensors, b.stateTensors) {
            for i in 0..<n { #expect(sb[flat: i].bitPattern == sa[flat: i].bitPattern) }
        }
    }
}
