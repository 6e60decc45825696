import SwNN
import SwTensor

/// The weight gradients of a model's dense layers computed once per node, split by output rows
/// over the node's ranks, a block at a time, and never stored whole.
///
/// Plain data parallelism has every rank compute the full weight gradient of its part of the
/// batch (`dW_r = dY_rᵀ X_r`) into its own buffer, and then the node sums the buffers
/// element by element: the gradient is written, read back and zeroed by every rank, which on
/// a 2.1M-parameter model moves more bytes than the optimizer itself. Here each dense layer
/// instead hands its input `X_r` and output gradient `dY_r` to a node-shared staging area
/// (`Dense.weightGradientSink`, a copy of 2 · rows · features floats, much smaller than the
/// weight), and after the barrier rank `r` of the node computes rows `rows(j)` of layer `j`'s
/// gradient over the node's whole batch in blocks that stay in cache,
/// `dW[rows] = [dY_0; dY_1; ...][:, rows]ᵀ · [X_0; X_1; ...]`, handing each block straight to
/// the optimizer. The sum over ranks happens inside one GEMM (rank order, the same on every
/// run); the bias gradient is the column sum of the stacked `dY`.
///
/// The parameter ranges these layers own (`ranges`) are updated only through `forEachBlock`;
/// the rest of the model keeps the per-rank gradient buffers of `SharedMemorySync`.
/// Only for steps of one micro-batch whose gradient goes straight to the optimizer (no
/// clipping, no L1/L2, one node): the trainer checks that.
public final class NodeWeightGradients {
    /// One dense layer: where its parameters sit in the flat buffer and its staging.
    struct Entry {
        let layer: Dense
        let inFeatures: Int, outFeatures: Int
        /// Rows (samples times leading dimensions) each rank may stage.
        let rowsPerRank: Int
        let weightOffset: Int
        let biasOffset: Int?
        /// Node-shared staging: every rank's inputs, stacked in rank order, then its output gradients.
        let inputs: UnsafeMutablePointer<Float>
        let outputGradients: UnsafeMutablePointer<Float>
        /// The output rows (weight rows) this rank computes.
        let rows: Range<Int>
    }

    private var entries: [Entry]
    private var staged: [Bool]
    private let ranks: Int
    private let rank: Int
    private let block: UnsafeMutablePointer<Float>
    private let blockCapacity: Int
    private let biasBlock: UnsafeMutablePointer<Float>
    private let blockLimit: Int
    /// The stacked inputs of the layer being computed, packed for `BLAS.gemmTN` (nil when
    /// swtrain's kernels are off: OpenBLAS reads them in place).
    private let packed: UnsafeMutablePointer<Float>?
    /// Where the next block's parameters and state start (for the kernel's prefetch).
    private let prefetch: UnsafeMutablePointer<UnsafePointer<Float>?>
    private static let maxPrefetch = 4
    /// Whether the layers' sinks are this object's (`attach` until `detach`).
    private var attached = false

    /// Floats per weight block. With swtrain's AVX-512 kernel (`BLAS.gemmTN`), 16 rows of 1024:
    /// the block stays in L1 for the update, and the kernel prefetches the next block's
    /// parameters and state while it computes. With OpenBLAS, which packs the stacked inputs
    /// again for every block, 2 MB (this Xeon's L2): dense1024 at np=2, 512 rows a block
    /// against 128 gave backward 4.43-4.56 against 4.62-4.93 ms (five alternating runs).
    public static var defaultBlockFloats: Int { BLAS.ownKernelsEnabled ? 16 * 1024 : 512 * 1024 }

    /// Staging for `layers` (each with the flat offsets of its weight and bias, and the rows a
    /// rank may feed it per step) over the node of `sync`, in blocks of at most `blockFloats`
    /// (at least one weight row). Collective over the node. The layers' sinks are not attached
    /// yet: call `attach()`.
    public init(sync: SharedMemorySync, layers: [(layer: Dense, weightOffset: Int, biasOffset: Int?, rowsPerRank: Int)],
                blockFloats limit: Int = NodeWeightGradients.defaultBlockFloats) throws {
        blockLimit = limit
        ranks = sync.node.size
        rank = sync.node.rank
        var made: [Entry] = []
        var blockFloats = 1
        var widest = 1
        var packedFloats: Int? = 0
        for l in layers {
            let inF = l.layer.inFeatures, outF = l.layer.outFeatures
            let stacked = ranks * l.rowsPerRank
            // One node buffer per layer: inputs, then output gradients, each on its own lines.
            let inCount = (stacked * inF + 15) / 16 * 16
            let base = try sync.allocateNodeBuffer(floats: inCount + stacked * outF)
            let rows = (outF * rank / ranks)..<(outF * (rank + 1) / ranks)
            made.append(Entry(layer: l.layer, inFeatures: inF, outFeatures: outF, rowsPerRank: l.rowsPerRank,
                              weightOffset: l.weightOffset, biasOffset: l.biasOffset,
                              inputs: base, outputGradients: base + inCount, rows: rows))
            blockFloats = max(blockFloats, min(rows.count, Self.blockRows(inF, limit: limit)) * inF)
            widest = max(widest, rows.count)
            let p = BLAS.packedCountForGemmTN(k: stacked, n: inF)
            packedFloats = p.map { max($0, packedFloats ?? 0) }
        }
        entries = made
        staged = Array(repeating: false, count: made.count)
        blockCapacity = blockFloats
        block = .allocate(capacity: blockFloats)
        block.initialize(repeating: 0, count: blockFloats)
        biasBlock = .allocate(capacity: widest)
        biasBlock.initialize(repeating: 0, count: widest)
        packed = packedFloats.map { n in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
            p.initialize(repeating: 0, count: max(n, 1))
            return p
        }
        prefetch = .allocate(capacity: Self.maxPrefetch)
        prefetch.initialize(repeating: nil, count: Self.maxPrefetch)
    }

    deinit {
        detach()
        block.deallocate()
        biasBlock.deallocate()
        prefetch.deallocate()
        packed?.deallocate()
    }

    /// Weight rows per block for a layer of `inFeatures` inputs.
    static func blockRows(_ inFeatures: Int, limit: Int) -> Int { max(1, limit / inFeatures) }

    /// The flat ranges of every staged layer's weight and bias (updated by `forEachBlock`).
    public var ranges: [Range<Int>] {
        entries.flatMap { e -> [Range<Int>] in
            let w = e.weightOffset..<(e.weightOffset + e.outFeatures * e.inFeatures)
            return e.biasOffset.map { [w, $0..<($0 + e.outFeatures)] } ?? [w]
        }
    }

    /// The flat ranges this rank updates through `forEachBlock`: its rows of every staged
    /// layer's weight and bias.
    public var ownRanges: [Range<Int>] {
        entries.flatMap { e -> [Range<Int>] in
            let w = (e.weightOffset + e.rows.lowerBound * e.inFeatures)..<(e.weightOffset + e.rows.upperBound * e.inFeatures)
            return e.biasOffset.map { [w, ($0 + e.rows.lowerBound)..<($0 + e.rows.upperBound)] } ?? [w]
        }
    }

    /// Bytes this rank reads per step from the other ranks' staging.
    public var bytesPerStep: Int {
        entries.reduce(0) { $0 + ($1.inFeatures + $1.outFeatures) * $1.rowsPerRank * (ranks - 1) }
            * MemoryLayout<Float>.stride
    }

    /// Makes every layer's backward stage its input and output gradient instead of
    /// accumulating its weight gradient.
    public func attach() {
        attached = true
        for (j, e) in entries.enumerated() {
            e.layer.weightGradientSink = { [unowned self] x, dy in self.stage(j, input: x, outputGradient: dy) }
        }
    }

    /// Gives the layers back their own weight gradients (once: a layer that another
    /// `NodeWeightGradients` attached to since keeps that one's sink).
    public func detach() {
        guard attached else { return }
        attached = false
        for e in entries { e.layer.weightGradientSink = nil }
    }

    /// Copies this rank's rows into layer `j`'s staging (zero rows after them up to the
    /// layer's rows per rank, so a short batch adds nothing).
    func stage(_ j: Int, input x: Tensor, outputGradient dy: Tensor) {
        let e = entries[j]
        let n = dy.count / e.outFeatures
        precondition(!staged[j], "NodeWeightGradients: layer \(j) staged twice in one step")
        precondition(n <= e.rowsPerRank && x.count == n * e.inFeatures,
                     "NodeWeightGradients: layer \(j) got \(n) rows, staging holds \(e.rowsPerRank)")
        staged[j] = true
        let xs = e.inputs + rank * e.rowsPerRank * e.inFeatures
        xs.update(from: x.pointer, count: n * e.inFeatures)
        (xs + n * e.inFeatures).update(repeating: 0, count: (e.rowsPerRank - n) * e.inFeatures)
        let ds = e.outputGradients + rank * e.rowsPerRank * e.outFeatures
        ds.update(from: dy.pointer, count: n * e.outFeatures)
        (ds + n * e.outFeatures).update(repeating: 0, count: (e.rowsPerRank - n) * e.outFeatures)
    }

    /// Computes this rank's rows of every staged layer's weight and bias gradient over the
    /// node's batch, a block at a time, and calls `body` with each block's flat parameter range
    /// and its gradient (valid until `body` returns; `body` may overwrite it). Call after the
    /// barrier that follows backward on every rank of the node (`waitForGradients`).
    /// `updated` (at most 4 flat buffers: the parameters and the optimizer state that `body`
    /// updates) is prefetched a block ahead, within each layer's weight.
    public func forEachBlock(prefetching updated: [Tensor] = [],
                             _ body: (_ range: Range<Int>, _ gradient: UnsafeMutablePointer<Float>) -> Void) {
        precondition(updated.count <= Self.maxPrefetch, "NodeWeightGradients: at most \(Self.maxPrefetch) buffers to prefetch")
        for (j, e) in entries.enumerated() {
            precondition(staged[j], "NodeWeightGradients: layer \(j) was not staged this step")
            staged[j] = false
            let stacked = ranks * e.rowsPerRank
            let step = Self.blockRows(e.inFeatures, limit: blockLimit)
            if let packed, !e.rows.isEmpty {
                BLAS.packForGemmTN(k: stacked, n: e.inFeatures, b: e.inputs, ldb: e.inFeatures, into: packed)
            }
            var r0 = e.rows.lowerBound
            while r0 < e.rows.upperBound {
                let r1 = min(r0 + step, e.rows.upperBound)
                precondition((r1 - r0) * e.inFeatures <= blockCapacity)
                // The next block of this layer's weight, to prefetch.
                let next = min(r1 + step, e.rows.upperBound) - r1
                for (q, t) in updated.enumerated() {
                    prefetch[q] = UnsafePointer(t.pointer + e.weightOffset + r1 * e.inFeatures)
                }
                // block (r1-r0, in) = dY[:, r0..<r1]ᵀ (r1-r0, stacked) · X (stacked, in)
                BLAS.gemmTN(m: r1 - r0, n: e.inFeatures, k: stacked, a: e.outputGradients + r0, lda: e.outFeatures,
                            b: UnsafePointer(packed ?? e.inputs), ldb: e.inFeatures, c: block, ldc: e.inFeatures,
                            prefetch: prefetch, prefetchPointers: next > 0 ? updated.count : 0,
                            prefetchCount: next * e.inFeatures)
                let w = e.weightOffset + r0 * e.inFeatures
                body(w..<(w + (r1 - r0) * e.inFeatures), block)
                r0 = r1
            }
            if let b = e.biasOffset, !e.rows.isEmpty {
                columnSums(e.outputGradients + e.rows.lowerBound, rows: stacked, stride: e.outFeatures,
                           count: e.rows.count, into: biasBlock)
                body((b + e.rows.lowerBound)..<(b + e.rows.upperBound), biasBlock)
            }
        }
    }

    /// `out[c] = Σ_r m[r * stride + c]` for c < count, summed over rows in order (16 columns
    /// at a time in SIMD registers, the same sums as the scalar loop).
    private func columnSums(_ m: UnsafeMutablePointer<Float>, rows: Int, stride: Int, count: Int,
                            into out: UnsafeMutablePointer<Float>) {
        var c = 0
        while c + 16 <= count {
            var acc = SIMD16<Float>(repeating: 0)
            for r in 0..<rows {
                acc += UnsafeRawPointer(m + r * stride + c).loadUnaligned(as: SIMD16<Float>.self)
            }
            UnsafeMutableRawPointer(out + c).storeBytes(of: acc, as: SIMD16<Float>.self)
            c += 16
        }
        while c < count {
            var acc: Float = 0
            for r in 0..<rows { acc += m[r * stride + c] }
            out[c] = acc
            c += 1
        }
    }
}
