import Foundation
import Testing
@testable import SwOptim

@Suite struct LRScheduleTests {
    let base: Float = 0.1
    let steps = [0, 1, 2, 3, 4, 5, 7, 9, 10, 11, 13, 20, 37, 50, 99, 100, 150]

    func expectClose(_ s: LRSchedule, _ formula: (Int) -> Double) {
        for k in steps {
            let want = formula(k)
            let got = Double(s.lr(at: k))
            #expect(abs(got - want) <= 1e-6 * max(abs(want), 1e-12), "step \(k): \(got) vs \(want)")
        }
    }

    /// The warm-up part, shared by every schedule: base · (step + 1) / w.
    func warm(_ k: Int, _ w: Int, then: (Int) -> Double) -> Double {
        k < w ? Double(base) * Double(k + 1) / Double(w) : then(k - w)
    }

    @Test(arguments: [0, 1, 10])
    func constant(warmup: Int) {
        expectClose(LRSchedule(baseLR: base, warmupSteps: warmup)) { warm($0, warmup) { _ in Double(base) } }
    }

    @Test(arguments: [0, 1, 10])
    func stepDecay(warmup: Int) {
        let s = LRSchedule(baseLR: base, decay: .step(size: 3, gamma: 0.5), warmupSteps: warmup)
        expectClose(s) { warm($0, warmup) { Double(base) * pow(Double(Float(0.5)), Double($0 / 3)) } }
    }

    @Test(arguments: [0, 1, 10])
    func exponential(warmup: Int) {
        let s = LRSchedule(baseLR: base, decay: .exponential(gamma: 0.95), warmupSteps: warmup)
        expectClose(s) { warm($0, warmup) { Double(base) * pow(Double(Float(0.95)), Double($0)) } }
    }

    @Test(arguments: [0, 1, 10])
    func cosine(warmup: Int) {
        let total = 100, minLR: Float = 0.001
        let s = LRSchedule(baseLR: base, decay: .cosine(totalSteps: total, minLR: minLR), warmupSteps: warmup)
        let tMax = Double(total - warmup)
        expectClose(s) {
            warm($0, warmup) { t in
                Double(minLR) + (Double(base) - Double(minLR)) * (1 + cos(Double.pi * min(Double(t), tMax) / tMax)) / 2
            }
        }
        #expect(s.lr(at: total) == minLR)
        #expect(s.lr(at: total + 50) == minLR)
        if (total - warmup) % 2 == 0 {
            #expect(abs(s.lr(at: warmup + (total - warmup) / 2) - (base + minLR) / 2) < 1e-7)
        }
    }

    /// Continuous at the end of warm-up: the last warm-up step and the first decay step both
    /// use the base rate.
    @Test(arguments: [LRSchedule.Decay.constant, .step(size: 2, gamma: 0.1), .exponential(gamma: 0.5),
                      .cosine(totalSteps: 30, minLR: 0)])
    func continuousAfterWarmup(decay: LRSchedule.Decay) {
        let s = LRSchedule(baseLR: base, decay: decay, warmupSteps: 8)
        #expect(s.lr(at: 0) == base / 8)
        #expect(s.lr(at: 7) == base)
        #expect(s.lr(at: 8) == base)
        for k in 0..<7 { #expect(s.lr(at: k) < s.lr(at: k + 1)) }
    }

    @Test func validation() {
        #expect(LRSchedule.validate(baseLR: 0.1, decay: .cosine(totalSteps: 10, minLR: 0), warmupSteps: 10) != nil)
        #expect(LRSchedule.validate(baseLR: 0.1, decay: .cosine(totalSteps: 10, minLR: 0.2), warmupSteps: 0) != nil)
        #expect(LRSchedule.validate(baseLR: 0.1, decay: .step(size: 0, gamma: 0.5), warmupSteps: 0) != nil)
        #expect(LRSchedule.validate(baseLR: 0.1, decay: .exponential(gamma: 0), warmupSteps: 0) != nil)
        #expect(LRSchedule.validate(baseLR: 0.1, decay: .constant, warmupSteps: -1) != nil)
        #expect(LRSchedule.validate(baseLR: 0.1, decay: .cosine(totalSteps: 11, minLR: 0), warmupSteps: 10) == nil)
    }
}
