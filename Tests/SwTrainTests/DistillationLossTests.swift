import Foundation
import Testing
import SwNN
import SwTensor
@testable import SwTrain

/// `DistillationLoss`: the trainer's cross-entropy plus the hook's term equals
/// α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)) + (1 − α)·CE recomputed in Double, and the summed
/// gradient equals the Double loss's analytic gradient and its central finite differences.
@Suite struct DistillationLossTests {
    static let rows = 6, classes = 7

    /// Deterministic logits in about [-4, 4] and labels (a small LCG, so no shared state).
    static func data(seed: UInt64) -> (zs: [Float], zt: [Float], y: [Float]) {
        var s = seed &* 6364136223846793005 &+ 1442695040888963407
        func next() -> Double {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Double(s >> 11) / Double(1 << 53)
        }
        let n = rows * classes
        let zs = (0..<n).map { _ in Float(next() * 8 - 4) }
        let zt = (0..<n).map { _ in Float(next() * 8 - 4) }
        let y = (0..<rows).map { _ in Float(Int(next() * Double(classes)) % classes) }
        return (zs, zt, y)
    }

    /// The whole distillation loss in Double, summed over rows.
    static func reference(_ zs: [Double], _ zt: [Double], _ y: [Float], t: Double, alpha: Double) -> Double {
        let c = classes
        var total = 0.0
        for r in 0..<rows {
            let s = Array(zs[r * c..<(r + 1) * c]), q = Array(zt[r * c..<(r + 1) * c])
            func logSoftmax(_ v: [Double]) -> [Double] {
                let m = v.max()!
                let lse = m + log(v.reduce(0) { $0 + exp($1 - m) })
                return v.map { $0 - lse }
            }
            let ls = logSoftmax(s.map { $0 / t }), lt = logSoftmax(q.map { $0 / t }), l1 = logSoftmax(s)
            var kl = 0.0
            for j in 0..<c { kl += exp(lt[j]) * (lt[j] - ls[j]) }
            let ce = -l1[Int(y[r])]
            total += alpha * t * t * kl + (1 - alpha) * ce
        }
        return total
    }

    /// Analytic Double gradient: α·T·(p_s^T − p_t^T) + (1 − α)·(p_s − onehot(y)).
    static func referenceGradient(_ zs: [Double], _ zt: [Double], _ y: [Float], t: Double, alpha: Double) -> [Double] {
        let c = classes
        var g = [Double](repeating: 0, count: zs.count)
        for r in 0..<rows {
            func softmax(_ v: ArraySlice<Double>, _ t: Double) -> [Double] {
                let m = v.max()!
                let e = v.map { exp(($0 - m) / t) }
                let z = e.reduce(0, +)
                return e.map { $0 / z }
            }
            let psT = softmax(zs[r * c..<(r + 1) * c], t), ptT = softmax(zt[r * c..<(r + 1) * c], t)
            let ps = softmax(zs[r * c..<(r + 1) * c], 1)
            for j in 0..<c {
                g[r * c + j] = alpha * t * (psT[j] - ptT[j]) + (1 - alpha) * (ps[j] - (j == Int(y[r]) ? 1 : 0))
            }
        }
        return g
    }

    /// CE (the trainer's base loss) then the hook's term, as the trainer runs them.
    static func swtrain(_ d: (zs: [Float], zt: [Float], y: [Float]), t: Float, alpha: Float, scale: Float) -> (loss: Double, gradient: [Float]) {
        let out = Tensor(shape: [rows, classes], values: d.zs), teacher = Tensor(shape: [rows, classes], values: d.zt)
        let y = Tensor(shape: [rows], values: d.y), g = Tensor(zeros: [rows, classes])
        var loss = SoftmaxCrossEntropy(classes: classes).evaluate(output: out, targets: y, gradient: g, gradientScale: scale).sum
        loss += DistillationLoss.add(student: out, teacher: teacher, targets: y, gradient: g, scale: scale,
                                     temperature: t, alpha: alpha, classes: classes)
        return (loss, g.array)
    }

    @Test(arguments: [(1.0, 0.5), (4.0, 0.9), (2.0, 1.0), (0.5, 0.3), (8.0, 0.1), (3.0, 0.0)])
    func lossAndGradientMatchDoubleReference(t: Double, alpha: Double) {
        for seed in [1, 2, 3] as [UInt64] {
            let d = Self.data(seed: seed)
            let scale: Float = 0.125
            let (loss, g) = Self.swtrain(d, t: Float(t), alpha: Float(alpha), scale: scale)
            let zs = d.zs.map(Double.init), zt = d.zt.map(Double.init)
            let ref = Self.reference(zs, zt, d.y, t: t, alpha: alpha)
            #expect(abs(loss - ref) <= 1e-5 * max(1, abs(ref)), "T=\(t) α=\(alpha) seed \(seed): loss \(loss), reference \(ref)")
            let rg = Self.referenceGradient(zs, zt, d.y, t: t, alpha: alpha)
            var worst = 0.0, worstFD = 0.0
            let h = 1e-4
            for i in zs.indices {
                worst = max(worst, abs(Double(g[i]) / Double(scale) - rg[i]))
                var plus = zs, minus = zs
                plus[i] += h
                minus[i] -= h
                let fd = (Self.reference(plus, zt, d.y, t: t, alpha: alpha) - Self.reference(minus, zt, d.y, t: t, alpha: alpha)) / (2 * h)
                worstFD = max(worstFD, abs(Double(g[i]) / Double(scale) - fd))
            }
            #expect(worst <= 1e-5, "T=\(t) α=\(alpha) seed \(seed): gradient off the analytic Double one by \(worst)")
            #expect(worstFD <= 1e-4, "T=\(t) α=\(alpha) seed \(seed): gradient off the central differences by \(worstFD)")
        }
    }

    /// α = 0 is plain cross-entropy bit for bit: the hook returns exactly 0, leaves the gradient's
    /// bits alone and does not run the teacher.
    @Test func alphaZeroAddsExactlyNothing() throws {
        let d = Self.data(seed: 9)
        let out = Tensor(shape: [Self.rows, Self.classes], values: d.zs), y = Tensor(shape: [Self.rows], values: d.y)
        let g = Tensor(zeros: [Self.rows, Self.classes])
        _ = SoftmaxCrossEntropy(classes: Self.classes).evaluate(output: out, targets: y, gradient: g, gradientScale: 0.3)
        let before = g.array.map(\.bitPattern)
        let config = try TrainConfig.parse(text: #"{"data": {"train": {"kind": "mnist1d"}}, "model": {"input": [7], "layers": [{"type": "dense", "units": 7}]}}"#)
        let teacher = try Model(config: config.model)
        let hook = DistillationLoss(teacher: teacher, temperature: 4, alpha: 0, classes: Self.classes)
        let added = hook.addLossTerm(input: out, output: out, targets: y, outputGradient: g, gradientScale: 0.3)
        #expect(added.bitPattern == 0.0.bitPattern)
        #expect(g.array.map(\.bitPattern) == before, "α = 0 changed the gradient")
        #expect(hook.teacherSeconds == 0, "α = 0 ran the teacher")
    }

    /// α = 1 is pure distillation: the labels drop out (any label gives the same loss and gradient).
    @Test func alphaOneIgnoresTheLabels() {
        var d = Self.data(seed: 5)
        let a = Self.swtrain(d, t: 3, alpha: 1, scale: 1)
        d.y = d.y.map { Float((Int($0) + 3) % Self.classes) }
        let b = Self.swtrain(d, t: 3, alpha: 1, scale: 1)
        let ref = Self.reference(d.zs.map(Double.init), d.zt.map(Double.init), d.y, t: 3, alpha: 1)
        #expect(abs(a.loss - b.loss) <= 1e-5 * max(1, abs(a.loss)) && abs(a.loss - ref) <= 1e-5 * max(1, abs(ref)))
        #expect(zip(a.gradient, b.gradient).allSatisfy { abs($0 - $1) <= 1e-6 }, "α = 1: the gradient depends on the labels")
    }
}
