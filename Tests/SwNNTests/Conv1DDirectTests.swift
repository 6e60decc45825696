import Testing
@testable import SwNN
import SwTensor
import _TestSupport

/// The direct 1-D convolution kernels (`Conv1DDirect`, CGemm `cconv1d.h`), AVX-512 and
/// portable copies: forward, input gradient and weight gradient against a Double reference over
/// channel counts on both sides of one 16-lane vector, kernels 1-7, strides 1-3, padding 0-3
/// (windows wholly in the padding included) and batches across the 8-sample task boundary, the
/// bias gradient too; `Conv1D` on them; the same bits run to run and at 1, 2 and 3 threads.
@Suite(.serialized) struct Conv1DDirectTests {
    // (batch, in channels, width, out channels, kernel, stride, padding)
    static let shapes: [(Int, Int, Int, Int, Int, Int, Int)] = [
        (3, 1, 40, 25, 5, 2, 1), (9, 25, 19, 25, 3, 2, 1), (17, 25, 10, 25, 3, 2, 1),
        (2, 1, 1, 1, 1, 1, 0), (5, 16, 7, 16, 3, 1, 1), (8, 17, 9, 15, 1, 1, 0),
        (4, 32, 6, 32, 3, 3, 2), (3, 3, 5, 31, 7, 1, 3), (10, 2, 4, 3, 2, 2, 3),
        (1, 31, 30, 2, 5, 3, 0), (6, 5, 13, 17, 4, 2, 2), (2, 20, 50, 9, 6, 1, 0),
    ]

    struct Reference {
        var y: [Double], dx: [Double], dw: [Double], db: [Double]
    }

    /// y = conv(x) + bias, dx and dw = the gradients for `dy`, in Double.
    static func reference(_ d: Conv1DDirect, x: [Float], w: [Float], bias: [Float], dy: [Float]) -> Reference {
        let (B, C, W, O, K, S, P) = (d.batch, d.inChannels, d.width, d.outChannels, d.kernel, d.stride, d.padding)
        let lo = (W + 2 * P - K) / S + 1
        var r = Reference(y: .init(repeating: 0, count: B * O * lo), dx: .init(repeating: 0, count: B * C * W),
                          dw: .init(repeating: 0, count: O * C * K), db: .init(repeating: 0, count: O))
        for b in 0..<B {
            for o in 0..<O {
                for l in 0..<lo {
                    var acc = Double(bias[o])
                    let g = Double(dy[(b * O + o) * lo + l])
                    r.db[o] += g
                    for c in 0..<C {
                        for j in 0..<K {
                            let i = l * S - P + j
                            guard i >= 0 && i < W else { continue }
                            let xi = (b * C + c) * W + i, wi = (o * C + c) * K + j
                            acc += Double(w[wi]) * Double(x[xi])
                            r.dx[xi] += Double(w[wi]) * g
                            r.dw[wi] += Double(x[xi]) * g
                        }
                    }
                    r.y[(b * O + o) * lo + l] = acc
                }
            }
        }
        return r
    }

    /// Runs forward and backward; dw and db start from `dw0` and `db0` (backward adds), dx from NaN.
    static func run(_ d: Conv1DDirect, x: [Float], w: [Float], bias: [Float], dy: [Float], dw0: [Float], db0: [Float],
                    portable: Bool) -> (y: [Float], dx: [Float], dw: [Float], db: [Float]) {
        var y = [Float](repeating: .nan, count: dy.count), dx = [Float](repeating: .nan, count: x.count), dw = dw0, db = db0
        var ws = [Float](repeating: .nan, count: d.workspaceCount)
        ws.withUnsafeMutableBufferPointer { ws in
            y.withUnsafeMutableBufferPointer { y in
                d.forward(x: x, weight: w, bias: bias, y: y.baseAddress!, workspace: ws.baseAddress!, portable: portable)
            }
            dx.withUnsafeMutableBufferPointer { dx in
                dw.withUnsafeMutableBufferPointer { dw in
                    db.withUnsafeMutableBufferPointer { db in
                        d.backward(x: x, dy: dy, weight: w, dWeight: dw.baseAddress!, dBias: db.baseAddress!,
                                   dx: dx.baseAddress!, workspace: ws.baseAddress!, portable: portable)
                    }
                }
            }
        }
        return (y, dx, dw, db)
    }

    static func random(_ n: Int, _ rng: inout RNG) -> [Float] { (0..<n).map { _ in rng.uniform(-1, 1) } }

    /// Largest |a - b| over 1 + |b|, with every value finite.
    static func error(_ a: [Float], _ b: [Double]) -> Double {
        precondition(a.count == b.count)
        var e = 0.0
        for (u, v) in zip(a, b) {
            guard u.isFinite else { return .infinity }
            e = max(e, abs(Double(u) - v) / (1 + abs(v)))
        }
        return e
    }

    static func call(_ s: (Int, Int, Int, Int, Int, Int, Int)) -> Conv1DDirect {
        Conv1DDirect(batch: s.0, inChannels: s.1, width: s.2, outChannels: s.3, kernel: s.4, stride: s.5, padding: s.6)
    }

    @Test(arguments: shapes, [false, true])
    func againstTheDoubleReference(shape: (Int, Int, Int, Int, Int, Int, Int), portable: Bool) {
        let d = Self.call(shape)
        let lo = (d.width + 2 * d.padding - d.kernel) / d.stride + 1
        var rng = RNG(seed: 11)
        let x = Self.random(d.batch * d.inChannels * d.width, &rng)
        let w = Self.random(d.outChannels * d.inChannels * d.kernel, &rng)
        let bias = Self.random(d.outChannels, &rng)
        let dy = Self.random(d.batch * d.outChannels * lo, &rng)
        let dw0 = Self.random(w.count, &rng), db0 = Self.random(bias.count, &rng)
        let got = Self.run(d, x: x, w: w, bias: bias, dy: dy, dw0: dw0, db0: db0, portable: portable)
        var ref = Self.reference(d, x: x, w: w, bias: bias, dy: dy)
        for i in ref.dw.indices { ref.dw[i] += Double(dw0[i]) }
        for i in ref.db.indices { ref.db[i] += Double(db0[i]) }
        #expect(Self.error(got.y, ref.y) < 1e-5, "y \(shape) portable \(portable)")
        #expect(Self.error(got.dx, ref.dx) < 1e-5, "dx \(shape) portable \(portable)")
        #expect(Self.error(got.dw, ref.dw) < 1e-5, "dw \(shape) portable \(portable)")
        #expect(Self.error(got.db, ref.db) < 1e-5, "db \(shape) portable \(portable)")
    }

    @Test func noBiasAndNoInputGradient() {
        let d = Self.call((9, 4, 11, 5, 3, 2, 2))
        let lo = (11 + 4 - 3) / 2 + 1
        var rng = RNG(seed: 4)
        let x = Self.random(9 * 4 * 11, &rng), w = Self.random(5 * 4 * 3, &rng), dy = Self.random(9 * 5 * lo, &rng)
        let ref = Self.reference(d, x: x, w: w, bias: [Float](repeating: 0, count: 5), dy: dy)
        var y = [Float](repeating: .nan, count: dy.count), dw = [Float](repeating: 0, count: w.count)
        var ws = [Float](repeating: .nan, count: d.workspaceCount)
        ws.withUnsafeMutableBufferPointer { ws in
            d.forward(x: x, weight: w, bias: nil, y: &y, workspace: ws.baseAddress!)
            d.backward(x: x, dy: dy, weight: w, dWeight: &dw, dBias: nil, dx: nil, workspace: ws.baseAddress!)
        }
        #expect(Self.error(y, ref.y) < 1e-5)
        #expect(Self.error(dw, ref.dw) < 1e-5)
    }

    /// The CNN example's second layer at batch 100 (13 tasks): the same bits twice at 2 threads
    /// and at 1 and 3 threads.
    @Test(arguments: [false, true])
    func sameBitsAtEveryThreadCount(portable: Bool) {
        ThreadPool.exclusive {
            let d = Self.call((100, 25, 19, 25, 3, 2, 1))
            var rng = RNG(seed: 8)
            let x = Self.random(100 * 25 * 19, &rng), w = Self.random(25 * 25 * 3, &rng)
            let bias = Self.random(25, &rng), dy = Self.random(100 * 25 * 10, &rng), dw0 = Self.random(w.count, &rng)
            let db0 = Self.random(25, &rng)
            func bits(_ threads: Int) -> [[UInt32]] {
                ThreadPool.setThreads(threads)
                let r = Self.run(d, x: x, w: w, bias: bias, dy: dy, dw0: dw0, db0: db0, portable: portable)
                return [r.y, r.dx, r.dw, r.db].map { $0.map(\.bitPattern) }
            }
            let two = bits(2)
            #expect(bits(2) == two, "run to run")
            #expect(bits(1) == two, "1 thread against 2")
            #expect(bits(3) == two, "3 threads against 2")
        }
    }

    /// `Conv1D` on the direct kernels against the same layer on im2col + GEMM, and all its
    /// gradients (the bias gradient included) by finite differences against the Double reference.
    @Test(arguments: [(1, 40, 25, 5, 2, 1), (25, 19, 25, 3, 2, 1), (3, 9, 20, 4, 3, 3), (18, 6, 2, 1, 1, 0)])
    func layerAgainstIm2colAndTheReference(c: Int, l: Int, o: Int, k: Int, s: Int, p: Int) {
        let direct = Conv1D(inputShape: [c, l], channels: o, kernel: k, stride: s, padding: p)
        let gemm = direct.replica() as! Conv1D
        gemm.allowsDirectKernel = false
        let stores = [ParameterStore(root: direct), ParameterStore(root: gemm)]
        var rng = RNG(seed: 2)
        direct.resetParameters(rng: &rng)
        stores[1].values.assign(stores[0].values)
        let x = Tensor(zeros: [11, c, l])
        rng.fillUniform(x, -1, 1)
        let yd = direct.forward(x, training: true), yg = gemm.forward(x, training: true)
        let dy = Tensor(zeros: yd.shape)
        rng.fillUniform(dy, -1, 1)
        let dxd = direct.backward(dy), dxg = gemm.backward(dy)
        func close(_ a: [Float], _ b: [Float]) -> Bool {
            zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * (1 + abs($1)) }
        }
        #expect(close(yd.array, yg.array))
        #expect(close(dxd.array, dxg.array))
        #expect(close(stores[0].gradients.array, stores[1].gradients.array))

        let report = GradCheck().check(direct, batch: 3, reference: conv1dReference(
            inC: c, length: l, outC: o, kernel: k, stride: s, padding: p, bias: true))
        #expect(report.passed, "\(report)")
        #expect(report.checked > 0)
    }
}
