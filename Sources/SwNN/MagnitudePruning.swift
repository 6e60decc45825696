/// Which weights a magnitude pruning compares against each other.
public enum PruningScope: String, Sendable, CaseIterable {
    /// One threshold over every pruned weight of the model (torch `global_unstructured`).
    case global
    /// Each layer pruned to the sparsity on its own (torch `l1_unstructured` per module).
    case layer
}

/// The selection rules of magnitude pruning, shared by the one-shot `swtrain prune` and the
/// gradual pruning during training, so both pick exactly the same weights.
///
/// Every rule is deterministic and independent of the world size: ties in magnitude are broken
/// by (layer order, index), smallest first, so every rank computing a mask from the same
/// weights gets the same mask.
public enum MagnitudePruning {
    /// How many of `count` weights a sparsity prunes: `round(sparsity · count)`, halves away
    /// from zero, clamped to `0...count`.
    public static func prunedCount(sparsity: Double, count: Int) -> Int {
        precondition(sparsity >= 0 && sparsity <= 1, "sparsity must be in [0, 1], got \(sparsity)")
        return min(count, max(0, Int((sparsity * Double(count)).rounded(.toNearestOrAwayFromZero))))
    }

    /// Keep-masks (`true` = kept) over `weights` (one buffer per layer, in model order) that prune
    /// the smallest `|w|` to reach `sparsity`: per layer with `.layer`, over all weights at once
    /// with `.global`. Weights already zero are the smallest, so a mask computed from masked
    /// weights at a higher sparsity contains the earlier mask (gradual pruning only grows).
    public static func unstructuredMasks(_ weights: [UnsafeBufferPointer<Float>], sparsity: Double,
                                         scope: PruningScope) -> [[Bool]] {
        switch scope {
        case .layer:
            return weights.map { w in mask(over: [w], pruning: prunedCount(sparsity: sparsity, count: w.count))[0] }
        case .global:
            let total = weights.reduce(0) { $0 + $1.count }
            return mask(over: weights, pruning: prunedCount(sparsity: sparsity, count: total))
        }
    }

    /// Masks over `weights` with the `pruned` smallest magnitudes (ties: earlier layer, then lower
    /// index) set to `false`.
    static func mask(over weights: [UnsafeBufferPointer<Float>], pruning pruned: Int) -> [[Bool]] {
        var masks = weights.map { [Bool](repeating: true, count: $0.count) }
        guard pruned > 0 else { return masks }
        // (|w|, layer, index) sorted ascending; |w| compared as Float, NaN treated as largest.
        var order: [(Float, Int32, Int32)] = []
        order.reserveCapacity(weights.reduce(0) { $0 + $1.count })
        for (l, w) in weights.enumerated() {
            for i in 0..<w.count {
                let m = abs(w[i])
                order.append((m.isNaN ? .infinity : m, Int32(l), Int32(i)))
            }
        }
        order.sort { a, b in a.0 != b.0 ? a.0 < b.0 : (a.1 != b.1 ? a.1 < b.1 : a.2 < b.2) }
        for k in 0..<pruned { masks[Int(order[k].1)][Int(order[k].2)] = false }
        return masks
    }

    /// The `keep` units with the largest norms, in ascending index order (ties: the lower index is
    /// kept). The indices to pass to `Prunable.keeping(outputUnits:)` and to the next layer's
    /// `keeping(inputFeatures:)`.
    public static func keptUnits(norms: [Float], keep: Int) -> [Int] {
        precondition(keep >= 1 && keep <= norms.count, "keep must be in 1...\(norms.count), got \(keep)")
        let ranked = norms.indices.sorted { a, b in norms[a] != norms[b] ? norms[a] > norms[b] : a < b }
        return ranked.prefix(keep).sorted()
    }

    /// The sparsity of the cubic schedule of Zhu & Gupta (2017) at `step`, snapped to the pruning
    /// events: `s_t = s_f + (s_i − s_f)(1 − (t − t_0)/(t_n − t_0))³` evaluated at the last event
    /// `t_0 + k·frequency ≤ step` (and at `end` once `step ≥ end`); `initial` before `start`.
    public static func cubicSparsity(step: Int, initial: Double, target: Double,
                                     start: Int, end: Int, frequency: Int) -> Double {
        precondition(end >= start && frequency >= 1, "cubicSparsity: need end >= start and frequency >= 1")
        if step < start { return initial }
        if step >= end || end == start { return target }
        let event = start + ((step - start) / frequency) * frequency
        let progress = Double(event - start) / Double(end - start)
        let r = 1 - progress
        return target + (initial - target) * r * r * r
    }

    /// Whether `step` is a pruning event: `start ≤ step ≤ end` and `(step − start)` a multiple of
    /// `frequency`, or `step == end`.
    public static func isEvent(step: Int, start: Int, end: Int, frequency: Int) -> Bool {
        guard step >= start && step <= end else { return false }
        return step == end || (step - start) % frequency == 0
    }
}
