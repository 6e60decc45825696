import Foundation
import SwTensor

// Independent Double re-derivations of the torch update rules (from the torch.optim docs'
// pseudo-code), written without the production code.

/// Hyperparameters as Double, taken from the same Float values the optimizer sees.
@inline(__always) func d(_ x: Float) -> Double { Double(x) }

/// torch.optim.SGD, one element at a time, all state in Double.
struct SGDReference {
    var momentum = 0.0, dampening = 0.0, nesterov = false, weightDecay = 0.0
    var buffer: [Double]? = nil

    mutating func step(_ p: inout [Double], _ grad: [Double], lr: Double) {
        var g = grad
        if weightDecay != 0 { for i in g.indices { g[i] += weightDecay * p[i] } }
        if momentum != 0 {
            if var b = buffer {
                for i in b.indices { b[i] = momentum * b[i] + (1 - dampening) * g[i] }
                buffer = b
            } else {
                buffer = g
            }
            let b = buffer!
            if nesterov { for i in g.indices { g[i] += momentum * b[i] } } else { g = b }
        }
        for i in p.indices { p[i] -= lr * g[i] }
    }
}

/// torch.optim.Adam (decoupled == false) and torch.optim.AdamW (decoupled == true).
struct AdamReference {
    var beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.0, decoupled = false
    var m: [Double] = [], v: [Double] = [], t = 0

    mutating func step(_ p: inout [Double], _ grad: [Double], lr: Double) {
        if m.isEmpty { m = Array(repeating: 0, count: p.count); v = m }
        t += 1
        var g = grad
        if decoupled {
            for i in p.indices { p[i] *= 1 - lr * weightDecay }
        } else if weightDecay != 0 {
            for i in g.indices { g[i] += weightDecay * p[i] }
        }
        let bc1 = 1 - pow(beta1, Double(t)), bc2 = 1 - pow(beta2, Double(t))
        for i in p.indices {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            let mHat = m[i] / bc1
            let denom = v[i].squareRoot() / bc2.squareRoot() + eps
            p[i] -= lr * mHat / denom
        }
    }
}

/// max |a - b| / max |b|: the error relative to the scale of the reference.
func relativeError(_ a: [Float], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    var num = 0.0, den = 0.0
    for (x, y) in zip(a, b) {
        num = max(num, abs(Double(x) - y))
        den = max(den, abs(y))
    }
    return den == 0 ? num : num / den
}

/// Random test data: parameters in [-1, 1), `steps` gradient vectors ~ N(0, scale²) and a
/// different learning rate per step.
struct Trajectory {
    let p0: [Float]
    let grads: [[Float]]
    let lrs: [Float]

    init(count: Int, steps: Int, seed: UInt64, gradScale: Float = 1, lr: Float = 0.05) {
        var rng = RNG(seed: seed)
        p0 = (0..<count).map { _ in rng.uniform(-1, 1) }
        grads = (0..<steps).map { _ in (0..<count).map { _ in rng.normal() * gradScale } }
        lrs = (0..<steps).map { _ in lr * rng.uniform(0.5, 1.5) }
    }
}
