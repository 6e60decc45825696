import Testing
import SwNN
import SwTensor

/// The compression capabilities of Dense and the convolutions: structured pruning builds
/// smaller layers that compute the kept units exactly, the quantizable weight is the layer's
/// own, and a factorization from exact factors reproduces the layer.
@Suite struct CapabilityTests {
    /// `layer` bound to its own buffer with random values.
    static func bound<L: Layer>(_ layer: L, seed: UInt64 = 5) -> L {
        let store = ParameterStore(root: layer)
        var rng = RNG(seed: seed)
        for i in 0..<store.count { store.values.pointer[i] = rng.uniform(-1, 1) }
        return layer
    }

    static func batch(_ shape: [Int], seed: UInt64 = 11) -> Tensor {
        var rng = RNG(seed: seed)
        let x = Tensor(zeros: shape)
        for i in 0..<x.count { x.pointer[i] = rng.uniform(-1, 1) }
        return x
    }

    /// Equal to float rounding of sums of a few dozen terms of magnitude <= 1.
    static func close(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }
    }

    /// Elements `kept` of axis 1 of a `(B, units, inner)` tensor, in order.
    static func select(_ t: Tensor, units: Int, inner: Int, _ kept: [Int]) -> [Float] {
        let b = t.count / (units * inner)
        var out: [Float] = []
        for s in 0..<b { for k in kept { out += (0..<inner).map { t.pointer[(s * units + k) * inner + $0] } } }
        return out
    }

    @Test func denseKeepingOutputUnitsComputesThoseUnits() {
        let d = Self.bound(Dense(inputShape: [3, 5], units: 6))
        let x = Self.batch([2, 3, 5])
        let kept = [4, 0, 2]
        let small = d.keeping(outputUnits: kept)
        #expect(small.outputShape == [3, 3] && small.outputUnits == 3)
        let full = d.forward(x, training: false).array
        let y = small.forward(x, training: false).array
        let expected = Self.select(Tensor(shape: [6, 6], values: full), units: 6, inner: 1, kept)
        #expect(y == expected)   // the same dot products, in the same order
        #expect(small.prunableWeight.array == kept.flatMap { o in Array(d.prunableWeight.array[o * 5..<(o + 1) * 5]) })
    }

    /// Pruning units of one dense removes the next dense's matching inputs: with the removed
    /// units zero the pair computes the same output.
    @Test func denseKeepingInputFeaturesMatchesTheNextLayer() {
        let d = Self.bound(Dense(inputShape: [7], units: 4))
        let x = Self.batch([3, 7])
        let kept = [1, 2, 6]
        for i in 0..<3 { for f in 0..<7 where !kept.contains(f) { x.pointer[i * 7 + f] = 0 } }
        let reduced = Tensor(shape: [3, 3], values: (0..<3).flatMap { i in kept.map { x.pointer[i * 7 + $0] } })
        let y = d.keeping(inputFeatures: kept).forward(reduced, training: false).array
        let full = d.forward(x, training: false).array
        #expect(zip(y, full).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) }, "\(y) vs \(full)")
    }

    @Test func convKeepingChannels() {
        let c1 = Self.bound(Conv1D(inputShape: [3, 9], channels: 5, kernel: 3, stride: 2, padding: 1))
        let x1 = Self.batch([2, 3, 9])
        let kept = [3, 1]
        let y1 = c1.keeping(outputUnits: kept).forward(x1, training: false).array
        let L = c1.outputShape[1]
        // The kept channels are a smaller GEMM: OpenBLAS may block it differently (its AVX2
        // kernels do), so the sums agree to rounding, not bit for bit.
        #expect(Self.close(y1, Self.select(c1.forward(x1, training: false), units: 5, inner: L, kept)))

        let c2 = Self.bound(Conv2D(inputShape: [4, 5, 5], channels: 3, kernel: (3, 2), padding: (1, 0)))
        let x2 = Self.batch([2, 4, 5, 5])
        let P = c2.outputShape[1] * c2.outputShape[2]
        #expect(Self.close(c2.keeping(outputUnits: [2, 0]).forward(x2, training: false).array,
                           Self.select(c2.forward(x2, training: false), units: 3, inner: P, [2, 0])))
        // Input channels: channel 1 and 3 removed (zero in the full input).
        let inKept = [0, 2]
        for s in 0..<2 { for c in [1, 3] { for i in 0..<25 { x2.pointer[(s * 4 + c) * 25 + i] = 0 } } }
        let reduced = Tensor(shape: [2, 2, 5, 5], values: Self.select(x2, units: 4, inner: 25, inKept))
        let small = c2.keeping(inputFeatures: inKept)
        #expect(small.inputShape == [2, 5, 5] && small.inputFeatures == 2)
        let y = small.forward(reduced, training: false).array
        let full = c2.forward(x2, training: false).array
        #expect(zip(y, full).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(y.prefix(4)) vs \(full.prefix(4))")
    }

    @Test func unitNormsRankByMagnitude() {
        let d = Self.bound(Dense(inputShape: [3], units: 2, bias: false))
        let w = [Float](arrayLiteral: 1, -2, 2, 0, 3, -4)
        for (i, v) in w.enumerated() { d.prunableWeight.pointer[i] = v }
        #expect(d.outputUnitNorms(order: 1) == [5, 7])
        #expect(d.outputUnitNorms(order: 2) == [3, 5])
    }

    @Test func quantizableWeightIsTheLayersOwn() {
        let c = Self.bound(Conv1D(inputShape: [2, 6], channels: 3, kernel: 2))
        let w = c.quantizableWeight
        #expect(w.shape == [3, 2, 2] && c.outputChannelAxis == 0)
        let absMax = c.perChannelAbsMax()
        let reference = (0..<3).map { o in (0..<4).map { abs(w.array[o * 4 + $0]) }.max()! }
        #expect(absMax == reference)
        // Fake-quantize through the view: the layer computes with the new weights.
        let x = Self.batch([1, 2, 6])
        let before = c.forward(x, training: false).array
        for o in 0..<3 {
            let scale = absMax[o] / 127
            for i in 0..<4 { w.pointer[o * 4 + i] = (w.pointer[o * 4 + i] / scale).rounded() * scale }
        }
        let after = c.forward(x, training: false).array
        #expect(after != before && zip(after, before).allSatisfy { abs($0 - $1) < 0.05 })
    }

    /// W = U V exactly (rank 2): the two-layer replacement reproduces the dense layer.
    @Test func factorizedFromExactFactorsReproducesTheLayer() {
        let (out, inF, r) = (5, 7, 2)
        let d = Self.bound(Dense(inputShape: [inF], units: out))
        let up = Self.batch([out, r], seed: 1), down = Self.batch([r, inF], seed: 2)
        let w = d.factorizableMatrix
        #expect(w.shape == [out, inF])
        for o in 0..<out {
            for i in 0..<inF {
                w.pointer[o * inF + i] = (0..<r).reduce(Float(0)) { $0 + up.pointer[o * r + $1] * down.pointer[$1 * inF + i] }
            }
        }
        let s = d.factorized(down: down, up: up)
        #expect(s.children.map(\.name) == ["0", "1"])
        #expect(s.layers.map { $0.parameterShapes.map(\.shape) } == [[[r, inF]], [[out, r], [out]]])
        let x = Self.batch([4, inF])
        let y = s.forward(x, training: false).array
        let reference = d.forward(x, training: false).array
        #expect(zip(y, reference).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(y) vs \(reference)")
    }
}
