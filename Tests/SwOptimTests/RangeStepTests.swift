import Testing
import SwOptim
import SwTensor

/// A pipeline stage updates only its slice: inside the range the result equals a full
/// update, outside it nothing changes (parameters and state).
@Suite struct RangeStepTests {
    @Test(arguments: ["sgd", "adam", "adamw"])
    func rangeStepUpdatesOnlyTheSlice(kind: String) {
        let n = 53, range = 17..<41
        func make() -> any Optimizer {
            switch kind {
            case "sgd": return SGD(count: n, momentum: 0.9, weightDecay: 0.01)
            case "adam": return Adam(count: n, weightDecay: 0.01)
            default: return AdamW(count: n)
            }
        }
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
}
