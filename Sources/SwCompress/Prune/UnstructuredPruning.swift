import SwNN

/// One-shot unstructured magnitude (L1) pruning: the smallest `|w|` of the prunable weights
/// (dense and conv weights, biases never) set to exactly zero, per layer or over all of them
/// at once, by the shared selection rules of `MagnitudePruning` (the same ones gradual
/// pruning during training uses, so a fine-tune recomputing the mask from these weights at
/// the same sparsity finds exactly these zeros).
public enum UnstructuredPruning {
    /// Per layer: weights and how many of them are zero afterwards.
    public struct LayerCount: Sendable {
        public var path: String
        public var weights: Int
        public var zeros: Int
        public var sparsity: Double { Double(zeros) / Double(max(1, weights)) }
    }

    /// The prunable layers of `model` (every `Prunable` below the network, model order), or
    /// only those at `paths` (an unknown path is an error listing the valid ones).
    public static func targets(_ model: Model, paths: [String]) throws -> [(path: String, layer: any Prunable)] {
        let all = model.network.descendants.compactMap { d in (d.layer as? any Prunable).map { (path: d.path, layer: $0) } }
        guard !paths.isEmpty else { return all }
        let known = Set(all.map(\.path))
        if let bad = paths.first(where: { !known.contains($0) }) {
            throw CompressError("--layers \(bad): no dense or conv layer has this path\n  hint: the prunable layers are at \(all.map(\.path).joined(separator: ", "))")
        }
        return all.filter { paths.contains($0.path) }
    }

    /// Zeros the pruned weights of `targets` in place and returns each layer's zero count.
    @discardableResult
    public static func apply(_ targets: [(path: String, layer: any Prunable)], sparsity: Double,
                             scope: PruningScope) -> [LayerCount] {
        let weights = targets.map { $0.layer.prunableWeight }
        let buffers = weights.map { UnsafeBufferPointer(start: UnsafePointer($0.pointer), count: $0.count) }
        let masks = MagnitudePruning.unstructuredMasks(buffers, sparsity: sparsity, scope: scope)
        var counts: [LayerCount] = []
        for ((path, _), (w, mask)) in zip(targets, zip(weights, masks)) {
            var zeros = 0
            for i in 0..<w.count {
                if !mask[i] { w.pointer[i] = 0 }
                if w.pointer[i] == 0 { zeros += 1 }
            }
            counts.append(LayerCount(path: path, weights: w.count, zeros: zeros))
        }
        return counts
    }
}
