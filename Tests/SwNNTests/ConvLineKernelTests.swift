import CKernels
import Testing
@testable import SwNN
import SwTensor
import _TestSupport

/// The C loops of a 1-D convolution (`ckernels_conv.h`, taken by `ConvKernel` for `Conv1D`
/// layers the direct kernels do not take; here with those turned off):
/// the same bits as the generic im2col / col2im and the Swift reorderings they replace, the
/// layer's forward and all three gradients against the Double reference with finite
/// differences over odd lengths, strides 1-2, padding 0-2, kernels 1, 3, 5, and the same bits
/// run to run and at 1 and 2 threads.
@Suite(.serialized) struct ConvLineKernelTests {
    /// (channels, length, kernel, stride, padding) with the kernel fitting the padded length.
    static let windows: [(Int, Int, Int, Int, Int)] = {
        var w: [(Int, Int, Int, Int, Int)] = []
        for (c, l) in [(1, 9), (3, 13), (2, 5)] {
            for k in [1, 3, 5] {
                for s in [1, 2, 3] {
                    for p in [0, 1, 2] where l + 2 * p >= k { w.append((c, l, k, s, p)) }
                }
            }
        }
        return w
    }()

    @Test(arguments: windows)
    func im2colAndCol2imMatchTheGenericLoops(window: (Int, Int, Int, Int, Int)) {
        let (c, l, k, s, p) = window
        let g = Window.line(channels: c, length: l, kernel: k, stride: s, padding: p)
        let samples = 3, cols = g.patch * samples * g.positions
        var rng = RNG(seed: 5)
        let x = (0..<(samples * g.inputSize)).map { _ in rng.uniform(-1, 1) }
        var generic = [Float](repeating: .nan, count: cols), line = generic
        im2col(x, g, samples: samples, &generic)
        swt_conv1d_im2col(samples, c, l, k, s, p, x, &line)
        #expect(line == generic, "im2col \(window)")

        let col = (0..<cols).map { _ in rng.uniform(-1, 1) }
        let base = (0..<(samples * g.inputSize)).map { _ in rng.uniform(-1, 1) }
        var dxGeneric = base, dxLine = base
        col2im(col, g, samples: samples, &dxGeneric)
        swt_conv1d_col2im(samples, c, l, k, s, p, col, &dxLine)
        #expect(dxLine.map(\.bitPattern) == dxGeneric.map(\.bitPattern), "col2im \(window)")
    }

    @Test(arguments: [(3, 25, 19), (2, 40, 1), (5, 3, 7)])
    func reorderingsMatchTheirDefinitions(shape: (Int, Int, Int)) {
        let (samples, out, positions) = shape
        let n = samples * positions, count = samples * out * positions
        var rng = RNG(seed: 9)
        let t = (0..<count).map { _ in rng.uniform(-1, 1) }
        let bias = (0..<out).map { _ in rng.uniform(-1, 1) }
        var y = [Float](repeating: .nan, count: count), back = y
        swt_conv1d_bias_scatter(samples, out, positions, t, bias, &y)
        swt_conv1d_gather(samples, out, positions, y, &back)
        var db = bias, dbRef = bias
        swt_conv1d_bias_sum(samples, out, positions, y, &db)
        for s in 0..<samples {
            for o in 0..<out {
                var acc: Float = 0
                for q in 0..<positions {
                    let v = t[o * n + s * positions + q] + bias[o]
                    #expect(y[(s * out + o) * positions + q] == v)
                    #expect(back[o * n + s * positions + q] == v)
                    acc += v
                }
                dbRef[o] += acc
            }
        }
        #expect(db.map(\.bitPattern) == dbRef.map(\.bitPattern))
    }

    // (in channels, odd length, out channels, kernel, stride, padding)
    @Test(arguments: [(2, 9, 3, 1, 1, 0), (3, 11, 4, 3, 1, 1), (2, 13, 3, 3, 2, 2), (1, 15, 5, 5, 2, 1),
                      (3, 9, 2, 5, 1, 2), (2, 7, 3, 1, 2, 1), (4, 11, 3, 5, 2, 0), (2, 5, 2, 3, 2, 0)])
    func gradientsAgainstTheDoubleReference(c: Int, l: Int, o: Int, k: Int, s: Int, p: Int) {
        let layer = Conv1D(inputShape: [c, l], channels: o, kernel: k, stride: s, padding: p)
        layer.allowsDirectKernel = false    // these loops, not the direct kernels (Conv1DDirectTests)
        let report = GradCheck().check(layer, batch: 3, reference: conv1dReference(
            inC: c, length: l, outC: o, kernel: k, stride: s, padding: p, bias: true))
        #expect(report.passed, "\(report)")
        #expect(report.checked > 0)
    }

    /// The CNN example's first two layers at batch 128: one forward and backward gives the
    /// same output and gradients twice at 2 threads, and the same as at 1 thread.
    /// On these loops and on the direct kernels.
    @Test(arguments: [false, true])
    func sameBitsRunToRunAndAcrossThreads(direct: Bool) {
        ThreadPool.exclusive {
            func step(threads: Int) -> [[Float]] {
                ThreadPool.setThreads(threads)
                let layers: [Conv1D] = [Conv1D(inputShape: [1, 40], channels: 25, kernel: 5, stride: 2, padding: 1),
                                        Conv1D(inputShape: [25, 19], channels: 25, kernel: 3, stride: 2, padding: 1)]
                for layer in layers { layer.allowsDirectKernel = direct }
                var rng = RNG(seed: 3)
                var result: [[Float]] = []
                var x = Tensor(zeros: [128, 1, 40])
                rng.fillUniform(x, -1, 1)
                for layer in layers {
                    let store = ParameterStore(root: layer)
                    layer.resetParameters(rng: &rng)
                    let y = layer.forward(x, training: true)
                    let dy = Tensor(zeros: y.shape)
                    rng.fillUniform(dy, -1, 1)
                    let dx = layer.backward(dy)
                    result += [y.array, dx.array, store.gradients.array]
                    x = y
                }
                return result
            }
            let two = step(threads: 2)
            #expect(step(threads: 2) == two, "run to run at 2 threads")
            #expect(step(threads: 1) == two, "1 thread against 2")
        }
    }
}
