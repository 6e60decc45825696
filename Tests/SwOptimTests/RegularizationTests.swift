import Testing
import SwTensor
@testable import SwOptim

@Suite struct RegularizationTests {
    struct Coefficients: Sendable { var l1: Float, l2: Float }

    @Test(arguments: [Coefficients(l1: 0, l2: 0), .init(l1: 0.01, l2: 0), .init(l1: 0, l2: 0.1),
                      .init(l1: 0.01, l2: 0.1)], [5, 37])
    func gradientAndPenaltyMatchDouble(c: Coefficients, n: Int) {
        let l1 = c.l1, l2 = c.l2
        var rng = RNG(seed: 11 + UInt64(n))
        var w = (0..<n).map { _ in rng.uniform(-2, 2) }
        w[0] = 0; w[n - 1] = -0.0                       // sign(0) = 0, as torch
        let g = (0..<n).map { _ in rng.normal() }
        let p = Tensor(shape: [n], values: w), gt = Tensor(shape: [n], values: g)
        let reg = Regularization(l1: l1, l2: l2)
        let penalty = reg.apply(parameters: p, gradients: gt)

        func sign(_ x: Double) -> Double { x > 0 ? 1 : (x < 0 ? -1 : 0) }
        let wd = w.map(Double.init)
        let wantGrad = zip(wd, g).map { x, gi in Double(gi) + Double(l1) * sign(x) + Double(l2) * x }
        let wantPenalty = Double(l1) * wd.reduce(0) { $0 + abs($1) } + Double(l2) / 2 * wd.reduce(0) { $0 + $1 * $1 }
        #expect(relativeError(gt.array, wantGrad) < 1e-6)
        #expect(abs(penalty - wantPenalty) <= 1e-12 * max(wantPenalty, 1))
        #expect(reg.penalty(parameters: p) == penalty)
        #expect(p.array == w, "parameters are not modified")
    }

    /// The added gradient is the derivative of the penalty (central differences in Double,
    /// away from the kink of |w| at 0).
    @Test func gradientIsDerivativeOfPenalty() {
        let w: [Float] = [0.5, -1.25, 2, -0.75]
        let reg = Regularization(l1: 0.03, l2: 0.2)
        let gt = Tensor(zeros: [4])
        reg.apply(parameters: Tensor(shape: [4], values: w), gradients: gt)
        func penalty(_ x: [Double]) -> Double {
            0.03 * x.reduce(0) { $0 + abs($1) } + 0.2 / 2 * x.reduce(0) { $0 + $1 * $1 }
        }
        for i in 0..<4 {
            var plus = w.map(Double.init), minus = plus
            plus[i] += 1e-6; minus[i] -= 1e-6
            let numeric = (penalty(plus) - penalty(minus)) / 2e-6
            #expect(abs(Double(gt[flat: i]) - numeric) < 1e-6)
        }
    }

    @Test func validation() {
        #expect(Regularization.validate(l1: 0, l2: 0) == nil)
        #expect(Regularization.validate(l1: -1, l2: 0) != nil)
        #expect(Regularization.validate(l1: 0, l2: .nan) != nil)
    }
}
