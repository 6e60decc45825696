import CKernels
import Testing
import SwConfig
import SwNN
import SwTensor

/// Int8 inference layers: the quantization grids, the dynamic dense error bound, and the int8
/// convolutions against a Double re-computation of their integer math.
@Suite struct QuantizedLayerTests {
    static func random(_ n: Int, seed: UInt64, scale: Float = 1, offset: Float = 0) -> [Float] {
        var r = RNG(seed: seed)
        return (0..<n).map { _ in offset + scale * r.normal() }
    }

    @Test func quantizeDequantizeErrorIsWithinHalfAStep() {
        // Weights: symmetric per channel and per tensor.
        for g in WeightGranularity.allCases {
            var w = Self.random(7 * 33, seed: 1)
            w[5] = 9     // an outlier in channel 0
            let orig = w
            let scales = w.withUnsafeMutableBufferPointer { Int8Quantization.quantizeWeights($0.baseAddress!, channels: 7, inner: 33, granularity: g) }
            #expect(scales.count == (g == .perChannel ? 7 : 1))
            for i in 0..<w.count {
                let s = scales[g == .perChannel ? i / 33 : 0]
                #expect(w[i] == w[i].rounded() && abs(w[i]) <= 127)
                #expect(abs(Double(orig[i]) - Double(w[i] * s)) <= Double(s) / 2 * (1 + 1e-6), "\(g) element \(i)")
            }
        }
        // Activations: a calibrated range (static) and per-row ranges (dynamic), by the kernels.
        let x = Self.random(5 * 40, seed: 2, scale: 2, offset: 0.5)
        let p = Int8Quantization.activationParameters(lo: x.min()!, hi: x.max()!)
        var q = [UInt8](repeating: 0, count: x.count)
        swt_quantize_u8(x.count, x, 1 / p.scale, p.zeroPoint, &q)
        for i in 0..<x.count {
            let back = Double(Int32(q[i]) - p.zeroPoint) * Double(p.scale)
            #expect(abs(back - Double(x[i])) <= Double(p.scale) / 2 * (1 + 1e-5), "static element \(i)")
            #expect(Float(back) == Int8Quantization.fakeQuantizeActivation(x[i], scale: p.scale, zeroPoint: p.zeroPoint) || abs(Float(back) - Int8Quantization.fakeQuantizeActivation(x[i], scale: p.scale, zeroPoint: p.zeroPoint)) < 1e-6)
        }
        var s = [Float](repeating: 0, count: 5), z = [Int32](repeating: 0, count: 5)
        swt_quantize_rows_u8(5, 40, x, 40, &q, 40, &s, &z)
        for r in 0..<5 {
            for j in 0..<40 {
                let back = Double(Int32(q[r * 40 + j]) - z[r]) * Double(s[r])
                #expect(abs(back - Double(x[r * 40 + j])) <= Double(s[r]) / 2 * (1 + 1e-5), "row \(r) element \(j)")
            }
        }
    }

    /// A `QuantizedDense` holding `w [out, in]` (float) quantized, with `bias`.
    static func quantizedDense(in k: Int, out n: Int, w: [Float], bias: [Float], g: WeightGranularity,
                               activations: ActivationQuantization = .dynamic, input: (Float, Int32)? = nil) -> (QuantizedDense, [Float], [Float]) {
        let q = QuantizedDense(inputShape: [k], units: n, granularity: g, activations: activations)
        _ = ParameterStore(root: q)
        let p = q.parameterTensors
        p[0].pointer.update(from: w, count: w.count)
        let scales = Int8Quantization.quantizeWeights(p[0].pointer, channels: n, inner: k, granularity: g)
        p[1].pointer.update(from: scales, count: scales.count)
        if let (s, z) = input { p[2].pointer[0] = s; p[3].pointer[0] = Float(z) }
        p.last!.pointer.update(from: bias, count: n)
        return (q, Array(UnsafeBufferPointer(start: p[0].pointer, count: w.count)), scales)
    }

    /// Bound: with |x̂ − x| ≤ s_x/2 per row and |ŵ − w| ≤ s_w/2 per channel,
    /// |ŷ − y| ≤ (s_x/2) Σ|w| + (s_w/2) Σ|x| + k s_x s_w / 4, plus float rounding of the dequantization.
    @Test(arguments: WeightGranularity.allCases)
    func dynamicDenseIsWithinTheDerivedBoundOfFP32(g: WeightGranularity) {
        let (m, k, n) = (9, 67, 13)
        let x = Self.random(m * k, seed: 3, scale: 1.5), w = Self.random(n * k, seed: 4, scale: 0.2), b = Self.random(n, seed: 5)
        let (q, _, scales) = Self.quantizedDense(in: k, out: n, w: w, bias: b, g: g)
        let y = q.forward(Tensor(shape: [m, k], values: x), training: false).array
        var maxRatio = 0.0, anyError = false
        for r in 0..<m {
            let row = x[r * k..<(r + 1) * k]
            let lo = min(0, Double(row.min()!)), hi = max(0, Double(row.max()!))
            let sx = (hi - lo) / 255
            for j in 0..<n {
                let sw = Double(scales[g == .perChannel ? j : 0])
                var exact = Double(b[j]), sumW = 0.0, sumX = 0.0
                for i in 0..<k { exact += Double(x[r * k + i]) * Double(w[j * k + i]); sumW += abs(Double(w[j * k + i])); sumX += abs(Double(x[r * k + i])) }
                let bound = sx / 2 * sumW + sw / 2 * sumX + Double(k) * sx * sw / 4 + 1e-6 * (abs(exact) + 1)
                let err = abs(Double(y[r * n + j]) - exact)
                #expect(err <= bound, "row \(r) output \(j): error \(err) > bound \(bound)")
                maxRatio = max(maxRatio, err / bound)
                anyError = anyError || err > 0
            }
        }
        #expect(anyError)           // the layer really quantizes
        #expect(maxRatio < 1)
    }

    /// Double re-computation of an int8 conv: quantize each patch value as the kernels do, sum
    /// q·w in integers, dequantize in Double.
    static func referenceConv(x: [Float], batch: Int, c: Int, h: Int, wd: Int, o: Int, kh: Int, kw: Int, sh: Int, sw: Int, ph: Int, pw: Int,
                              wq: [Float], wScale: [Float], bias: [Float], input: (Float, Int32)?) -> [Double] {
        let ho = (h + 2 * ph - kh) / sh + 1, wo = (wd + 2 * pw - kw) / sw + 1
        let patch = c * kh * kw
        var y = [Double](repeating: 0, count: batch * o * ho * wo)
        for s in 0..<batch {
            for i in 0..<ho {
                for j in 0..<wo {
                    var p = [Float](repeating: 0, count: patch)
                    for cc in 0..<c { for u in 0..<kh { for v in 0..<kw {
                        let (r, col) = (i * sh - ph + u, j * sw - pw + v)
                        if r >= 0 && r < h && col >= 0 && col < wd { p[(cc * kh + u) * kw + v] = x[((s * c + cc) * h + r) * wd + col] }
                    } } }
                    let (scale, zp): (Float, Int32)
                    if let input { (scale, zp) = input } else { (scale, zp) = Int8Quantization.activationParameters(lo: p.min()!, hi: p.max()!) }
                    let inv = 1 / scale
                    let q = p.map { Int(min(255, max(0, ($0 * inv).rounded(.toNearestOrEven) + Float(zp)))) }
                    for oc in 0..<o {
                        var acc = 0
                        for t in 0..<patch { acc += (q[t] - Int(zp)) * Int(wq[oc * patch + t]) }
                        let ws = wScale[wScale.count == 1 ? 0 : oc]
                        y[((s * o + oc) * ho + i) * wo + j] = Double(acc) * Double(scale * ws) + Double(bias[oc])
                    }
                }
            }
        }
        return y
    }

    @Test(arguments: [ActivationQuantization.static, .dynamic])
    func quantizedConvEqualsTheIntegerMathInDouble(activations: ActivationQuantization) {
        let (batch, c, h, wd, o) = (3, 3, 5, 11, 4)
        let x = Self.random(batch * c * h * wd, seed: 7, offset: 0.3)
        let input: (Float, Int32)? = activations == .static ? Int8Quantization.activationParameters(lo: x.min()! * 0.8, hi: x.max()! * 0.8) : nil
        // 2-D: kernel (3, 2), stride (2, 1), padding (1, 1), per-channel scales.
        let l2 = QuantizedConv2D(inputShape: [c, h, wd], channels: o, kernel: (3, 2), stride: (2, 1), padding: (1, 1),
                                 granularity: .perChannel, activations: activations)
        // 1-D over [c * h, wd]: kernel 3, stride 2, padding 1, per-tensor scale.
        let l1 = QuantizedConv1D(inputShape: [c * h, wd], channels: o, kernel: 3, stride: 2, padding: 1,
                                 granularity: .perTensor, activations: activations)
        for (layer, dims) in [(l2 as any Layer, (c, h, 3, 2, 2, 1, 1, 1)), (l1, (c * h, 1, 1, 3, 1, 2, 0, 1))] {
            _ = ParameterStore(root: layer)
            let p = layer.parameterTensors
            let wf = Self.random(p[0].count, seed: 8, scale: 0.3)
            p[0].pointer.update(from: wf, count: wf.count)
            let scales = Int8Quantization.quantizeWeights(p[0].pointer, channels: o, inner: p[0].count / o,
                                                          granularity: p[1].count == 1 ? .perTensor : .perChannel)
            p[1].pointer.update(from: scales, count: scales.count)
            if let (s, z) = input { p[2].pointer[0] = s; p[3].pointer[0] = Float(z) }
            let bias = Self.random(o, seed: 9)
            p.last!.pointer.update(from: bias, count: o)
            let y = layer.forward(Tensor(shape: [batch] + layer.inputShape, values: x), training: false).array
            let (cc, hh, kh, kw, sh, sw, ph, pw) = dims
            let ref = Self.referenceConv(x: x, batch: batch, c: cc, h: hh, wd: wd, o: o, kh: kh, kw: kw, sh: sh, sw: sw, ph: ph, pw: pw,
                                         wq: Array(UnsafeBufferPointer(start: p[0].pointer, count: p[0].count)), wScale: scales, bias: bias, input: input)
            #expect(y.count == ref.count)
            for i in 0..<ref.count {
                #expect(abs(Double(y[i]) - ref[i]) <= 1e-5 * (abs(ref[i]) + 1), "\(layer.typeName) output \(i): \(y[i]) vs \(ref[i])")
            }
        }
    }

    @Test func configBuildsInt8LayersWithIntegerParameters() throws {
        let spec = try ConfigValue.parse("""
            {"input": [1, 12], "layers": [
              {"type": "quantized_conv1d", "channels": 4, "kernel": 3, "activations": "static"}, {"type": "flatten"},
              {"type": "quantized_dense", "units": 3, "granularity": "per_tensor"}], "loss": "cross_entropy"}
            """, file: "m.json")
        let model = try Model(config: spec)
        #expect(model.parameters.entries.map(\.name) == ["0.weight", "0.weight_scale", "0.input_scale", "0.input_zero_point", "0.bias",
                                                         "2.weight", "2.weight_scale", "2.bias"])
        #expect(model.parameters.entry("2.weight_scale")!.shape == [1])
        #expect(model.integerParameterDTypes == ["0.weight": .i8, "0.input_zero_point": .i32, "2.weight": .i8])
        let bad = try ConfigValue.parse("""
            {"input": [4], "layers": [{"type": "quantized_dense", "units": 3, "activations": "sometimes"}], "loss": "mse"}
            """, file: "m.json")
        #expect(throws: ConfigError.self) { _ = try Model(config: bad) }
    }
}
