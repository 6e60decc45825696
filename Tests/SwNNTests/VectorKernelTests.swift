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

    /// Layer norm over 600 rows of 40 (three row blocks, a 16-lane body and an 8 tail) on
    /// both kernel paths (the C rows, AVX-512 and portable): forward, input and parameter
    /// gradients against Double, and bit-identical at 1 and 2 threads.
    @Test(arguments: [CPU.KernelPath.native, .portable])
    func layerNormBlocksAndThreads(path: CPU.KernelPath) {
        ThreadPool.exclusive {
            let (rows, D) = (600, 40)
            var rng = RNG(seed: 5)
            let params = (0..<(2 * D)).map { _ in rng.uniform(0.5, 1.5) }
            let xs = (0..<(rows * D)).map { _ in rng.uniform(-2, 2) }
            let dys = (0..<(rows * D)).map { _ in rng.uniform(-1, 1) }
            func run(_ threads: Int) -> ([Float], [Float], [Float]) {
                ThreadPool.setThreads(threads)
                let layer = LayerNorm(inputShape: [D])
                let store = ParameterStore(root: layer)
                store.values.pointer.update(from: params, count: 2 * D)
                let x = Tensor(shape: [rows, D], values: xs), dy = Tensor(shape: [rows, D], values: dys)
                return CPU.withKernelPath(path) {
                    let y = layer.forward(x, training: true).array
                    let dx = layer.backward(dy).array
                    return (y, dx, store.gradients.array)
                }
            }
            let one = run(1), two = run(2)
            #expect(one.0 == two.0 && one.1 == two.1 && one.2 == two.2, "\(path)")
            // Against Double: y = n w + b, dx = rstd (g - mean g - n mean(g n)) with g = dy w,
            // dw = Σ dy n, db = Σ dy.
            let w = params[0..<D].map(Double.init), b = params[D...].map(Double.init)
            var (ey, edx) = (0.0, 0.0)
            var dw = [Double](repeating: 0, count: D), db = dw
            for r in 0..<rows {
                let row = xs[(r * D)..<((r + 1) * D)].map(Double.init), d = dys[(r * D)..<((r + 1) * D)].map(Double.init)
                let mean = row.reduce(0, +) / Double(D)
                let rstd = 1 / (row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(D) + 1e-5).squareRoot()
                let n = row.map { ($0 - mean) * rstd }, g = (0..<D).map { d[$0] * w[$0] }
                let mg = g.reduce(0, +) / Double(D), mgn = (0..<D).reduce(0.0) { $0 + g[$1] * n[$1] } / Double(D)
                for i in 0..<D {
                    ey = max(ey, abs(n[i] * w[i] + b[i] - Double(one.0[r * D + i])))
                    edx = max(edx, abs(rstd * (g[i] - mg - n[i] * mgn) - Double(one.1[r * D + i])))
                    dw[i] += d[i] * n[i]
                    db[i] += d[i]
                }
            }
            let ew = (0..<D).reduce(0.0) { max($0, abs(dw[$1] - Double(one.2[$1]))) }
            let eb = (0..<D).reduce(0.0) { max($0, abs(db[$1] - Double(one.2[D + $1]))) }
            #expect(ey < 1e-5, "\(path): forward error \(ey)")
            #expect(edx < 1e-5, "\(path): input gradient error \(edx)")
            // Sums of 600 terms of size about 1 (in blocks of 256): float rounding near 1e-5.
            #expect(ew < 1e-4 && eb < 1e-4, "\(path): weight gradient error \(ew), bias \(eb)")
        }
    }
}
