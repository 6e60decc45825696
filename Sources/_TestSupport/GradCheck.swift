import SwNN
import SwTensor

/// Checks a layer against a Double-precision reference of its forward.
///
/// The reference is written independently in the test (plain loops in Double): it maps the
/// input batch and the layer's parameters (flat, in `parameterShapes` order) to the output.
/// The check (1) compares the layer's Float forward with the reference, and (2) compares the
/// layer's backward (input gradient and every parameter gradient) with central finite
/// differences of the *reference* in Double for the scalar `L = sum(w * y)` with random `w`.
public struct GradCheck {
    /// A Double forward: (input, parameters) -> output, all flat row-major.
    public typealias Reference = (_ x: [Double], _ params: [[Double]]) -> [Double]

    public struct Report: CustomStringConvertible {
        public var forwardMaxError = 0.0
        public var worst: [(what: String, analytic: Double, numeric: Double)] = []
        public var failures: [String] = []
        public var checked = 0
        public var passed: Bool { failures.isEmpty }
        public var description: String {
            "forward max error \(forwardMaxError), \(checked) gradients checked, failures:\n" + failures.prefix(10).joined(separator: "\n")
        }
    }

    public var rtol = 2e-3
    public var atol = 2e-4
    public var eps = 1e-5
    /// At most this many entries of each tensor are checked (randomly chosen); 0 = all.
    public var maxEntries = 150

    public init(rtol: Double = 2e-3, atol: Double = 2e-4, maxEntries: Int = 150) {
        self.rtol = rtol
        self.atol = atol
        self.maxEntries = maxEntries
    }

    /// Runs both checks on `layer` for a batch of `batch` samples. The layer is bound to a
    /// fresh `ParameterStore` and initialised from `seed` unless `initialize` is false.
    public func check(_ layer: any Layer, batch: Int, seed: UInt64 = 7, training: Bool = true,
                      input: ((inout RNG) -> Float)? = nil, reference: Reference) -> Report {
        var rng = RNG(seed: seed)
        let store = ParameterStore(root: layer)
        layer.resetAllParameters(rng: &rng)
        // Perturb parameters a little so special initial values (ones, zeros) do not hide bugs.
        for i in 0..<store.count { store.values.pointer[i] += 0.1 * rng.uniform(-1, 1) }
        layer.needsInputGradient = true

        let x = Tensor(zeros: [batch] + layer.inputShape)
        for i in 0..<x.count { x.pointer[i] = input?(&rng) ?? rng.uniform(-1, 1) }
        let params = ownParams(store)

        var report = Report()
        let y = layer.forward(x, training: training)
        let yRef = reference(x.array.map(Double.init), params)
        if yRef.count != y.count {
            report.failures.append("forward: output has \(y.count) values, reference \(yRef.count)")
            return report
        }
        for i in 0..<y.count {
            let e = abs(Double(y.pointer[i]) - yRef[i])
            report.forwardMaxError = max(report.forwardMaxError, e)
            if e > atol + rtol * abs(yRef[i]) {
                report.failures.append("forward[\(i)]: layer \(y.pointer[i]) reference \(yRef[i])")
            }
        }
        let w = (0..<y.count).map { _ in Double(rng.uniform(-1, 1)) }
        let dy = Tensor(shape: y.shape, values: w.map(Float.init))
        store.zeroGradients()
        let dx = layer.backward(dy)
        func objective(_ xs: [Double], _ ps: [[Double]]) -> Double {
            zip(reference(xs, ps), w).reduce(0) { $0 + $1.0 * $1.1 }
        }
        // Input gradient.
        let xd = x.array.map(Double.init)
        for i in pick(x.count, &rng) {
            var plus = xd, minus = xd
            plus[i] += eps; minus[i] -= eps
            let num = (objective(plus, params) - objective(minus, params)) / (2 * eps)
            compare("dx[\(i)]", Double(dx.pointer[i]), num, &report)
        }
        // Parameter gradients.
        let grads = ownGrads(store)
        for (p, g) in grads.enumerated() {
            for i in pick(g.count, &rng) {
                var plus = params, minus = params
                plus[p][i] += eps; minus[p][i] -= eps
                let num = (objective(xd, plus) - objective(xd, minus)) / (2 * eps)
                compare("\(store.entries[p].name)[\(i)]", g[i], num, &report)
            }
        }
        return report
    }

    private func compare(_ what: String, _ a: Double, _ n: Double, _ r: inout Report) {
        r.checked += 1
        if abs(a - n) > atol + rtol * max(abs(a), abs(n)) {
            r.failures.append("\(what): analytic \(a) numeric \(n)")
        }
    }

    private func pick(_ n: Int, _ rng: inout RNG) -> [Int] {
        if maxEntries == 0 || n <= maxEntries { return Array(0..<n) }
        return Array(rng.permutation(n).prefix(maxEntries))
    }

    private func ownParams(_ s: ParameterStore) -> [[Double]] {
        s.entries.map { e in (0..<e.count).map { Double(s.values.pointer[e.offset + $0]) } }
    }

    private func ownGrads(_ s: ParameterStore) -> [[Double]] {
        s.entries.map { e in (0..<e.count).map { Double(s.gradients.pointer[e.offset + $0]) } }
    }
}
