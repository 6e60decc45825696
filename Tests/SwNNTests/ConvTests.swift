import Testing
@testable import SwNN
import SwTensor
import _TestSupport

/// Double reference of torch.nn.Conv1d: y[b, o, l] = bias[o] + sum_{c, j} w[o, c, j] x[b, c, l s - p + j].
func conv1dReference(inC: Int, length: Int, outC: Int, kernel: Int, stride: Int, padding: Int, bias: Bool) -> GradCheck.Reference {
    { x, p in
        let lOut = (length + 2 * padding - kernel) / stride + 1
        let batch = x.count / (inC * length)
        var y = [Double](repeating: 0, count: batch * outC * lOut)
        for b in 0..<batch {
            for o in 0..<outC {
                for l in 0..<lOut {
                    var s = bias ? p[1][o] : 0
                    for c in 0..<inC {
                        for j in 0..<kernel {
                            let pos = l * stride - padding + j
                            if pos < 0 || pos >= length { continue }
                            s += p[0][(o * inC + c) * kernel + j] * x[(b * inC + c) * length + pos]
                        }
                    }
                    y[(b * outC + o) * lOut + l] = s
                }
            }
        }
        return y
    }
}

/// Double reference of torch.nn.Conv2d with kernel (kh, kw), stride (sh, sw), padding (ph, pw).
func conv2dReference(inC: Int, h: Int, w: Int, outC: Int, k: (Int, Int), s: (Int, Int), p: (Int, Int), bias: Bool) -> GradCheck.Reference {
    { x, prm in
        let hOut = (h + 2 * p.0 - k.0) / s.0 + 1, wOut = (w + 2 * p.1 - k.1) / s.1 + 1
        let batch = x.count / (inC * h * w)
        var y = [Double](repeating: 0, count: batch * outC * hOut * wOut)
        for b in 0..<batch {
            for o in 0..<outC {
                for i in 0..<hOut {
                    for j in 0..<wOut {
                        var acc = bias ? prm[1][o] : 0
                        for c in 0..<inC {
                            for u in 0..<k.0 {
                                for v in 0..<k.1 {
                                    let r = i * s.0 - p.0 + u, q = j * s.1 - p.1 + v
                                    if r < 0 || r >= h || q < 0 || q >= w { continue }
                                    acc += prm[0][((o * inC + c) * k.0 + u) * k.1 + v] * x[((b * inC + c) * h + r) * w + q]
                                }
                            }
                        }
                        y[((b * outC + o) * hOut + i) * wOut + j] = acc
                    }
                }
            }
        }
        return y
    }
}

@Suite struct ConvTests {
    // (in channels, length, out channels, kernel, stride, padding, bias)
    @Test(arguments: [(2, 11, 3, 3, 1, 0, true), (3, 12, 4, 5, 2, 1, true), (1, 40, 25, 5, 2, 1, false), (4, 7, 2, 7, 3, 3, true)])
    func conv1dGradients(inC: Int, length: Int, outC: Int, k: Int, s: Int, p: Int, bias: Bool) {
        let layer = Conv1D(inputShape: [inC, length], channels: outC, kernel: k, stride: s, padding: p, bias: bias)
        #expect(layer.outputShape == [outC, (length + 2 * p - k) / s + 1])
        #expect(layer.parameterShapes.map(\.shape) == (bias ? [[outC, inC, k], [outC]] : [[outC, inC, k]]))
        let report = GradCheck().check(layer, batch: 3, reference: conv1dReference(
            inC: inC, length: length, outC: outC, kernel: k, stride: s, padding: p, bias: bias))
        #expect(report.passed, "\(report)")
        #expect(report.checked > 0)
    }

    @Test func conv1dInChunks() {
        let layer = Conv1D(inputShape: [3, 10], channels: 4, kernel: 3, stride: 1, padding: 1)
        layer.allowsDirectKernel = false    // the chunks are im2col's
        layer.columnLimit = 2 * 10 * 9      // two samples per chunk; batch 5 -> chunks 2, 2, 1
        let report = GradCheck().check(layer, batch: 5, reference: conv1dReference(
            inC: 3, length: 10, outC: 4, kernel: 3, stride: 1, padding: 1, bias: true))
        #expect(report.passed, "\(report)")
    }

    @Test func conv2dGradients() {
        let cases: [(Int, Int, Int, Int, (Int, Int), (Int, Int), (Int, Int), Bool)] = [
            (2, 6, 7, 3, (3, 2), (2, 1), (1, 0), true),
            (1, 5, 5, 2, (3, 3), (1, 1), (1, 1), true),
            (3, 4, 6, 2, (2, 3), (1, 2), (0, 1), false),
        ]
        for (inC, h, w, outC, k, s, p, bias) in cases {
            let layer = Conv2D(inputShape: [inC, h, w], channels: outC, kernel: k, stride: s, padding: p, bias: bias)
            #expect(layer.outputShape == [outC, (h + 2 * p.0 - k.0) / s.0 + 1, (w + 2 * p.1 - k.1) / s.1 + 1])
            let report = GradCheck().check(layer, batch: 2, reference: conv2dReference(
                inC: inC, h: h, w: w, outC: outC, k: k, s: s, p: p, bias: bias))
            #expect(report.passed, "case \((inC, h, w, outC, k, s, p, bias)): \(report)")
        }
    }

    @Test func conv2dInChunks() {
        let layer = Conv2D(inputShape: [2, 5, 4], channels: 3, kernel: (3, 3), padding: (1, 1))
        layer.columnLimit = 20 * 18         // one sample per chunk
        let report = GradCheck().check(layer, batch: 3, reference: conv2dReference(
            inC: 2, h: 5, w: 4, outC: 3, k: (3, 3), s: (1, 1), p: (1, 1), bias: true))
        #expect(report.passed, "\(report)")
    }

    @Test func initialisationBoundIsOneOverSqrtFanIn() {
        let layer = Conv1D(inputShape: [4, 20], channels: 8, kernel: 5)
        let store = ParameterStore(root: layer)
        var rng = RNG(seed: 3)
        layer.resetAllParameters(rng: &rng)
        let bound = 1 / Float(4 * 5).squareRoot()
        #expect(store.values.array.allSatisfy { abs($0) <= bound })
        #expect(store.values.array.contains { abs($0) > 0.8 * bound })
    }

    @Test func batchSizeMayChangeBetweenSteps() {
        let layer = Conv1D(inputShape: [2, 9], channels: 3, kernel: 3, stride: 2)
        let ref = conv1dReference(inC: 2, length: 9, outC: 3, kernel: 3, stride: 2, padding: 0, bias: true)
        for batch in [4, 1, 3] {
            let report = GradCheck().check(layer, batch: batch, reference: ref)
            #expect(report.passed, "batch \(batch): \(report)")
        }
    }
}
