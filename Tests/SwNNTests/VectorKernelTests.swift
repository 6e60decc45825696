import Foundation
import Testing
import SwNN
import SwTensor

/// The C GELU the layer runs (`VectorKernels`) against Double `x Φ(x)` and its derivative, on
/// both kernel paths, with a tail that is not a multiple of 16, and bit-identical across
/// thread counts.
@Suite(.serialized) struct VectorKernelTests {
    @Test func geluMatchesDouble() {
        var rng = RNG(seed: 2)
        let n = 70_001
        let x = (0..<n).map { i in i < 9 ? [Float(0), -0, 1e-8, -6, 6, 10, -10, 88, -88][i] : rng.uniform(-7, 7) }
        let dy = (0..<n).map { _ in rng.uniform(-1, 1) }
        for path in [CPU.KernelPath.native, .portable] {
            var y = [Float](repeating: .nan, count: n), dx = y
            CPU.withKernelPath(path) {
                VectorKernels.geluForward(count: n, x: x, y: &y)
                VectorKernels.geluBackward(count: n, x: x, dy: dy, dx: &dx)
            }
            var ey = 0.0, ed = 0.0
            for i in 0..<n {
                let v = Double(x[i]), cdf = 0.5 * (1 + erf(v / 2.0.squareRoot()))
                let pdf = exp(-0.5 * v * v) / (2 * Double.pi).squareRoot()
                ey = max(ey, abs(Double(y[i]) - v * cdf) / max(1, abs(v)))
                ed = max(ed, abs(Double(dx[i]) - Double(dy[i]) * (cdf + v * pdf)))
            }
            // erf within 5e-7, exp within 3e-7, float rounding: 2e-6 (relative to max(1, |x|)).
            #expect(ey < 2e-6, "\(path): forward error \(ey)")
            #expect(ed < 2e-6, "\(path): backward error \(ed)")
        }
    }

    @Test func geluBitIdenticalAcrossThreads() {
        ThreadPool.exclusive {
            var rng = RNG(seed: 3)
            let n = 100_003
            let x = (0..<n).map { _ in rng.uniform(-5, 5) }
            func run() -> [Float] {
                var dx = [Float](repeating: 0, count: n)
                VectorKernels.geluBackward(count: n, x: x, dy: x, dx: &dx)
                return dx
            }
            ThreadPool.setThreads(1)
            let one = run()
            ThreadPool.setThreads(2)
            #expect(run() == one)
        }
    }

    /// Layer norm over 600 rows of 40 (three row blocks, a 16-lane body and an 8 tail): the
    /// forward against Double, and forward, input and parameter gradients bit-identical at
    /// 1 and 2 threads.
    @Test func layerNormBlocksAndThreads() {
        ThreadPool.exclusive {
            let (rows, D) = (600, 40)
            func run(_ threads: Int) -> ([Float], [Float], [Float]) {
                ThreadPool.setThreads(threads)
                let layer = LayerNorm(inputShape: [D])
                let store = ParameterStore(root: layer)
                var rng = RNG(seed: 5)
                layer.resetAllParameters(rng: &rng)
                rng.fillUniform(store.values, 0.5, 1.5)
                let x = Tensor(zeros: [rows, D]), dy = Tensor(zeros: [rows, D])
                rng.fillUniform(x, -2, 2)
                rng.fillUniform(dy, -1, 1)
                let y = layer.forward(x, training: true).array
                let dx = layer.backward(dy).array
                return (y, dx, store.gradients.array)
            }
            let one = run(1), two = run(2)
            #expect(one.0 == two.0 && one.1 == two.1 && one.2 == two.2)
            // Forward against Double.
            let layer = LayerNorm(inputShape: [D])
            let store = ParameterStore(root: layer)
            var rng = RNG(seed: 5)
            layer.resetAllParameters(rng: &rng)
            rng.fillUniform(store.values, 0.5, 1.5)
            let w = Array(store.values.array[0..<D]).map(Double.init), b = Array(store.values.array[D..<(2 * D)]).map(Double.init)
            let x = Tensor(zeros: [rows, D])
            rng.fillUniform(x, -2, 2)
            let xs = x.array.map(Double.init)
            var worst = 0.0
            for r in 0..<rows {
                let row = Array(xs[(r * D)..<((r + 1) * D)])
                let mean = row.reduce(0, +) / Double(D)
                let v = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(D)
                for i in 0..<D {
                    let want = (row[i] - mean) / (v + 1e-5).squareRoot() * w[i] + b[i]
                    worst = max(worst, abs(want - Double(one.0[r * D + i])))
                }
            }
            #expect(worst < 1e-5, "forward error \(worst)")
        }
    }
}
