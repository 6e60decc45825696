import Testing
import SwTensor
@testable import SwOptim

/// Runs `optimizer` along `trajectory`; returns final parameters.
func run(_ optimizer: any Optimizer, _ tr: Trajectory) -> Tensor {
    let p = Tensor(shape: [tr.p0.count], values: tr.p0)
    let g = Tensor(zeros: [tr.p0.count])
    for (grad, lr) in zip(tr.grads, tr.lrs) {
        grad.withUnsafeBufferPointer { g.pointer.update(from: $0.baseAddress!, count: grad.count) }
        let before = g.array
        optimizer.step(parameters: p, gradients: g, lr: lr)
        #expect(g.array == before, "the optimizer must not write to the gradients")
    }
    return p
}

/// Checks final parameters, the total change and every state tensor against the reference.
func expectMatches(_ p: Tensor, _ tr: Trajectory, reference: [Double], state: [(String, Tensor, [Double])],
                   tolerance: Double = 1e-5, _ label: String) {
    #expect(relativeError(p.array, reference) < tolerance, "\(label): parameters")
    let delta = zip(p.array, tr.p0).map { $0 - $1 }
    let refDelta = zip(reference, tr.p0).map { $0 - Double($1) }
    // The change is small next to the parameters, so compare it on its own scale too
    // (its Float rounding is relative to |p|, hence the looser bound).
    #expect(relativeError(delta, refDelta) < 2e-5, "\(label): parameter change")
    for (name, tensor, ref) in state {
        #expect(relativeError(tensor.array, ref) < tolerance, "\(label): \(name)")
    }
}

@Suite struct SGDTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var momentum: Float, dampening: Float, nesterov: Bool, weightDecay: Float
        var testDescription: String { "mu=\(momentum) tau=\(dampening) nesterov=\(nesterov) wd=\(weightDecay)" }
    }

    /// Every combination torch accepts.
    static let cases: [Case] = {
        var cs: [Case] = []
        for mu: Float in [0, 0.9] {
            for tau: Float in [0, 0.1] {
                for nest in [false, true] where !nest || (mu > 0 && tau == 0) {
                    for wd: Float in [0, 0.01] { cs.append(Case(momentum: mu, dampening: tau, nesterov: nest, weightDecay: wd)) }
                }
            }
        }
        return cs
    }()

    @Test(arguments: cases, [5, 37])
    func matchesDoubleReference(c: Case, count: Int) {
        let tr = Trajectory(count: count, steps: 5, seed: UInt64(count), lr: 0.1)
        let opt = SGD(count: count, momentum: c.momentum, dampening: c.dampening, nesterov: c.nesterov,
                      weightDecay: c.weightDecay)
        let p = run(opt, tr)
        var ref = SGDReference(momentum: d(c.momentum), dampening: d(c.dampening), nesterov: c.nesterov,
                               weightDecay: d(c.weightDecay))
        var rp = tr.p0.map(Double.init)
        for (g, lr) in zip(tr.grads, tr.lrs) { ref.step(&rp, g.map(Double.init), lr: d(lr)) }
        #expect(opt.stepCount == 5)
        var state: [(String, Tensor, [Double])] = []
        if c.momentum != 0 {
            #expect(opt.stateTensors.map(\.name) == ["momentum_buffer"])
            state.append(("momentum_buffer", opt.stateTensors[0].tensor, ref.buffer!))
        } else {
            #expect(opt.stateTensors.isEmpty)
        }
        expectMatches(p, tr, reference: rp, state: state, "\(c)")
    }

    @Test func firstStepBufferIsTheGradientUndamped() {
        let opt = SGD(count: 3, momentum: 0.9, dampening: 0.5)
        let p = Tensor(shape: [3], values: [1, 2, 3])
        let g = Tensor(shape: [3], values: [0.5, -1, 2])
        let lr: Float = 0.1
        opt.step(parameters: p, gradients: g, lr: lr)
        #expect(opt.momentumBuffer!.array == [0.5, -1, 2])
        let want: [Float] = [1 - 0.5 * lr, 2 + lr, 3 - 2 * lr]
        #expect(p.array == want)
    }

    @Test func validationMessages() {
        #expect(SGD.validate(momentum: 0.9, dampening: 0, nesterov: true) == nil)
        #expect(SGD.validate(momentum: 0, nesterov: true)?.contains("nesterov") == true)
        #expect(SGD.validate(momentum: 0.9, dampening: 0.1, nesterov: true)?.contains("dampening") == true)
        #expect(SGD.validate(momentum: -1) != nil)
        #expect(SGD.validate(weightDecay: -0.1) != nil)
    }
}

@Suite struct AdamTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var decoupled: Bool, beta1: Float, beta2: Float, eps: Float, weightDecay: Float, gradScale: Float
        var testDescription: String {
            "\(decoupled ? "adamw" : "adam") betas=(\(beta1), \(beta2)) eps=\(eps) wd=\(weightDecay) g~\(gradScale)"
        }
    }

    static let cases: [Case] = {
        var cs: [Case] = []
        for decoupled in [false, true] {
            for wd: Float in [0, 0.01, 0.1] {
                for (b1, b2) in [(Float(0.9), Float(0.999)), (0.8, 0.95), (0, 0.5)] {
                    cs.append(Case(decoupled: decoupled, beta1: b1, beta2: b2, eps: 1e-8, weightDecay: wd, gradScale: 1))
                }
            }
            // Gradients near eps: the update depends on where eps is added.
            cs.append(Case(decoupled: decoupled, beta1: 0.9, beta2: 0.999, eps: 1e-3, weightDecay: 0.01, gradScale: 1e-3))
        }
        return cs
    }()

    @Test(arguments: cases, [5, 37])
    func matchesDoubleReference(c: Case, count: Int) {
        let tr = Trajectory(count: count, steps: 5, seed: 100 + UInt64(count), gradScale: c.gradScale, lr: 0.05)
        let opt: any Optimizer = c.decoupled
            ? AdamW(count: count, beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay)
            : Adam(count: count, beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay)
        let p = run(opt, tr)
        var ref = AdamReference(beta1: d(c.beta1), beta2: d(c.beta2), eps: d(c.eps),
                                weightDecay: d(c.weightDecay), decoupled: c.decoupled)
        var rp = tr.p0.map(Double.init)
        for (g, lr) in zip(tr.grads, tr.lrs) { ref.step(&rp, g.map(Double.init), lr: d(lr)) }
        #expect(opt.stepCount == 5)
        let names = opt.stateTensors.map(\.name)
        #expect(names == ["exp_avg", "exp_avg_sq"])
        expectMatches(p, tr, reference: rp,
                      state: [("exp_avg", opt.stateTensors[0].tensor, ref.m),
                              ("exp_avg_sq", opt.stateTensors[1].tensor, ref.v)], "\(c)")
    }

    @Test func defaultsFollowTorch() {
        let a = Adam(count: 1), w = AdamW(count: 1)
        #expect(a.name == "adam" && w.name == "adamw")
        #expect(a.beta1 == 0.9 && a.beta2 == 0.999 && a.eps == 1e-8 && a.weightDecay == 0)
        #expect(w.weightDecay == 0.01)
        #expect(Adam.validate(beta1: 1, beta2: 0.999, eps: 1e-8, weightDecay: 0) != nil)
        #expect(AdamW.validate(beta1: 0.9, beta2: 0.999, eps: -1, weightDecay: 0) != nil)
    }
}

@Suite struct OptimizerStateTests {
    /// Saving the state after 2 steps and restoring it into a fresh optimizer continues
    /// bit-identically to an uninterrupted run.
    @Test(arguments: ["sgd", "adam", "adamw"])
    func restoreContinuesIdentically(kind: String) {
        func make() -> any Optimizer {
            switch kind {
            case "sgd": return SGD(count: 37, momentum: 0.9, nesterov: true, weightDecay: 0.01)
            case "adam": return Adam(count: 37, weightDecay: 0.01)
            default: return AdamW(count: 37)
            }
        }
        let tr = Trajectory(count: 37, steps: 5, seed: 9)
        let whole = run(make(), tr)

        let first = make()
        let p = Tensor(shape: [37], values: tr.p0)
        let g = Tensor(zeros: [37])
        for k in 0..<2 {
            tr.grads[k].withUnsafeBufferPointer { g.pointer.update(from: $0.baseAddress!, count: 37) }
            first.step(parameters: p, gradients: g, lr: tr.lrs[k])
        }
        let saved = first.stateTensors.map { ($0.name, $0.tensor.array) }
        let second = make()
        for ((name, values), (name2, tensor)) in zip(saved, second.stateTensors) {
            #expect(name == name2)
            values.withUnsafeBufferPointer { tensor.pointer.update(from: $0.baseAddress!, count: values.count) }
        }
        second.stepCount = first.stepCount
        for k in 2..<5 {
            tr.grads[k].withUnsafeBufferPointer { g.pointer.update(from: $0.baseAddress!, count: 37) }
            second.step(parameters: p, gradients: g, lr: tr.lrs[k])
        }
        #expect(p.array == whole.array)
    }
}
