import Testing
import SwNN
import SwTensor

/// The selection rules of magnitude pruning against a brute-force re-derivation: exact counts,
/// the smallest magnitudes removed, ties by (layer, index), masks that only grow, and the cubic
/// schedule against the formula evaluated in Double at the events.
@Suite struct MagnitudePruningTests {
    static func random(_ n: Int, seed: UInt64) -> [Float] {
        var rng = RNG(seed: seed)
        return (0..<n).map { _ in rng.uniform(-1, 1) }
    }

    static func masks(_ layers: [[Float]], _ s: Double, _ scope: PruningScope) -> [[Bool]] {
        let flat = layers.flatMap { $0 }
        return flat.withUnsafeBufferPointer { all in
            var start = 0
            let bufs = layers.map { l -> UnsafeBufferPointer<Float> in
                defer { start += l.count }
                return UnsafeBufferPointer(rebasing: all[start..<start + l.count])
            }
            return MagnitudePruning.unstructuredMasks(bufs, sparsity: s, scope: scope)
        }
    }

    @Test(arguments: [0.0, 0.5, 0.8, 0.9, 0.95, 1.0])
    func perLayerCountsAndMagnitudes(sparsity: Double) {
        let layers = [Self.random(257, seed: 1), Self.random(64, seed: 2), Self.random(1, seed: 3)]
        let m = Self.masks(layers, sparsity, .layer)
        for (w, mask) in zip(layers, m) {
            let pruned = mask.filter { !$0 }.count
            #expect(pruned == MagnitudePruning.prunedCount(sparsity: sparsity, count: w.count))
            // Every pruned magnitude is at most every kept one.
            let maxPruned = zip(w, mask).filter { !$0.1 }.map { abs($0.0) }.max() ?? -1
            let minKept = zip(w, mask).filter { $0.1 }.map { abs($0.0) }.min() ?? .infinity
            #expect(maxPruned <= minKept)
        }
    }

    @Test func globalThresholdIsOneThresholdOverAllLayers() {
        // Layer 0 holds small weights, layer 1 large ones: a global 50% prunes layer 0 mostly.
        let small = Self.random(100, seed: 4).map { $0 * 0.1 }
        let large = Self.random(100, seed: 5)
        let m = Self.masks([small, large], 0.5, .global)
        #expect(m[0].filter { !$0 }.count + m[1].filter { !$0 }.count == 100)
        let all = (small + large).map(abs).sorted()
        let threshold = all[99]
        for (w, mask) in zip(small + large, m[0] + m[1]) { #expect(mask == (abs(w) > threshold)) }
    }

    @Test func tiesBreakByLayerThenIndex() {
        let m = Self.masks([[0.5, 0.5, 0.5], [0.5, 0.5]], 0.4, .global)   // 2 of 5 pruned
        #expect(m == [[false, false, true], [true, true]])
        #expect(MagnitudePruning.keptUnits(norms: [1, 3, 3, 2, 3], keep: 2) == [1, 2])
        #expect(MagnitudePruning.keptUnits(norms: [5, 1, 4], keep: 3) == [0, 1, 2])
    }

    @Test func masksGrowWhenAppliedToMaskedWeights() {
        var w = Self.random(1000, seed: 6)
        var previous = [Bool](repeating: true, count: w.count)
        for s in [0.3, 0.6, 0.9] {
            let m = Self.masks([w], s, .layer)[0]
            for i in w.indices where !previous[i] { #expect(!m[i]) }
            for i in w.indices where !m[i] { w[i] = 0 }
            previous = m
        }
    }

    @Test func cubicScheduleMatchesTheFormulaAtEvents() {
        let (si, sf, t0, tn, f) = (0.1, 0.9, 100, 1100, 50)
        for step in [0, 99, 100, 101, 149, 150, 600, 1099, 1100, 5000] {
            let event = step < t0 ? nil : (step >= tn ? tn : t0 + (step - t0) / f * f)
            let expected = event.map { e -> Double in
                let r = 1 - Double(e - t0) / Double(tn - t0)
                return sf + (si - sf) * r * r * r
            } ?? si
            let got = MagnitudePruning.cubicSparsity(step: step, initial: si, target: sf, start: t0, end: tn, frequency: f)
            #expect(abs(got - expected) < 1e-15, "step \(step)")
        }
        #expect(MagnitudePruning.isEvent(step: 150, start: 100, end: 1100, frequency: 50))
        #expect(!MagnitudePruning.isEvent(step: 151, start: 100, end: 1100, frequency: 50))
        #expect(MagnitudePruning.isEvent(step: 1100, start: 100, end: 1100, frequency: 300))
        #expect(!MagnitudePruning.isEvent(step: 99, start: 100, end: 1100, frequency: 50))
    }
}
