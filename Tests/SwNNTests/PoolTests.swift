import Testing
import SwNN
import SwTensor
import _TestSupport

/// Double reference of torch max/avg pooling (2-D; 1-D is h = 1, kh = 1, sh = 1, ph = 0):
/// max pads with -inf, average divides by kh * kw (count_include_pad=True).
func poolReference(max isMax: Bool, c: Int, h: Int, w: Int, k: (Int, Int), s: (Int, Int), p: (Int, Int)) -> GradCheck.Reference {
    { x, _ in
        let hOut = (h + 2 * p.0 - k.0) / s.0 + 1, wOut = (w + 2 * p.1 - k.1) / s.1 + 1
        let planes = x.count / (h * w)
        var y: [Double] = []
        for q in 0..<planes {
            for i in 0..<hOut {
                for j in 0..<wOut {
                    var best = -Double.infinity, sum = 0.0
                    for u in 0..<k.0 {
                        for v in 0..<k.1 {
                            let r = i * s.0 - p.0 + u, t = j * s.1 - p.1 + v
                            if r < 0 || r >= h || t < 0 || t >= w { continue }
                            let value = x[(q * h + r) * w + t]
                            best = Swift.max(best, value)
                            sum += value
                        }
                    }
                    y.append(isMax ? best : sum / Double(k.0 * k.1))
                }
            }
        }
        _ = c
        return y
    }
}

@Suite struct PoolTests {
    // (channels, length, kernel, stride, padding)
    @Test(arguments: [(2, 9, 3, 2, 1), (3, 8, 2, 2, 0), (1, 10, 4, 3, 2), (2, 5, 5, 1, 0)])
    func pool1dGradients(c: Int, l: Int, k: Int, s: Int, p: Int) {
        for isMax in [true, false] {
            let layer: any Layer = isMax ? MaxPool(inputShape: [c, l], kernel: k, stride: s, padding: p)
                                         : AvgPool(inputShape: [c, l], kernel: k, stride: s, padding: p)
            #expect(layer.outputShape == [c, (l + 2 * p - k) / s + 1])
            #expect(layer.typeName == (isMax ? "maxpool1d" : "avgpool1d"))
            let report = GradCheck().check(layer, batch: 3, reference: poolReference(
                max: isMax, c: c, h: 1, w: l, k: (1, k), s: (1, s), p: (0, p)))
            #expect(report.passed, "\(layer.typeName): \(report)")
        }
    }

    @Test func pool2dGradients() {
        let cases: [(Int, Int, Int, (Int, Int), (Int, Int), (Int, Int))] = [
            (2, 5, 6, (2, 3), (2, 2), (1, 1)),
            (3, 4, 4, (2, 2), (2, 2), (0, 0)),
            (1, 7, 5, (3, 3), (1, 2), (1, 0)),
        ]
        for (c, h, w, k, s, p) in cases {
            for isMax in [true, false] {
                let layer: any Layer = isMax ? MaxPool(inputShape: [c, h, w], kernel: k, stride: s, padding: p)
                                             : AvgPool(inputShape: [c, h, w], kernel: k, stride: s, padding: p)
                #expect(layer.outputShape == [c, (h + 2 * p.0 - k.0) / s.0 + 1, (w + 2 * p.1 - k.1) / s.1 + 1])
                let report = GradCheck().check(layer, batch: 2, reference: poolReference(
                    max: isMax, c: c, h: h, w: w, k: k, s: s, p: p))
                #expect(report.passed, "\(layer.typeName) \((c, h, w, k, s, p)): \(report)")
            }
        }
    }

    @Test func maxPoolOfAllNegativeWindowIgnoresPadding() {
        // Padding is -inf for max pooling, so a window of negatives returns the largest negative.
        let layer = MaxPool(inputShape: [1, 4], kernel: 2, stride: 2, padding: 1)
        let y = layer.forward(Tensor(shape: [1, 1, 4], values: [-3, -2, -5, -4]), training: false)
        #expect(y.array == [-3, -2, -4])
        let avg = AvgPool(inputShape: [1, 4], kernel: 2, stride: 2, padding: 1)
        #expect(avg.forward(Tensor(shape: [1, 1, 4], values: [-3, -2, -5, -4]), training: false).array == [-1.5, -3.5, -2])
    }
}
