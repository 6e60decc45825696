import SwTensor

/// Where a sampler is: the next batch to produce is step `stepInEpoch` of epoch `epoch`.
/// This is all a checkpoint needs (the order itself is a function of the seed and epoch), and
/// it does not depend on the world size: a state saved at 4 ranks restores at 2.
public struct SamplerState: Codable, Sendable, Equatable {
    /// The epoch of the next batch (0-based).
    public var epoch: Int
    /// The step of the next batch within its epoch (0-based).
    public var stepInEpoch: Int
    public init(epoch: Int = 0, stepInEpoch: Int = 0) {
        self.epoch = epoch
        self.stepInEpoch = stepInEpoch
    }
}

/// One step's share of the global batch for this rank.
public struct SamplerBatch {
    /// Dataset indices for this rank. Owned by the sampler: valid until its next `next()`.
    public let indices: UnsafeBufferPointer<Int>
    /// The epoch this batch belongs to.
    public let epoch: Int
    /// The batch's step within its epoch (0-based).
    public let stepInEpoch: Int
    /// Samples in this step's global batch (all ranks): `globalBatch`, or less for a kept
    /// partial last batch. Divide summed losses by this to weight ranks correctly.
    public let globalBatchSize: Int
}

/// A distributed, resumable sampler: every rank walks the same seeded order and takes its
/// contiguous slice of each global batch.
///
/// Epoch `e` visits the dataset in the order `RNG(seed: seed).fork(e).permutation(count)`
/// (`0..<count` when not shuffling). Step `t` of an epoch is global batch positions
/// `[t*B, (t+1)*B)` of that order, and rank `r` of `W` takes positions `[r*B/W, (r+1)*B/W)` of
/// the global batch. So the samples of each global batch, and their order, are the same
/// whatever `W` is: what makes np=k train like np=1.
///
/// The last `count % B` samples of an epoch: with `dropLast` (the default) they are skipped on
/// every rank; without it they form a last, smaller global batch of `b` samples split as evenly
/// as possible in rank order: rank `r` gets `b/W` samples, plus one when `r < b % W` (so a
/// rank may get none when `b < W`). `SamplerBatch.globalBatchSize` reports `b`.
///
/// `next()` allocates nothing except when an epoch begins (its permutation).
public struct Sampler {
    /// Samples in the dataset.
    public let datasetCount: Int
    /// Samples per step over all data-parallel ranks (`B`).
    public let globalBatch: Int
    /// This rank's index in its data-parallel group (`r`).
    public let rank: Int
    /// Ranks in the data-parallel group (`W`).
    public let worldSize: Int
    /// Seed of the per-epoch shuffles.
    public let seed: UInt64
    /// Whether each epoch visits a fresh permutation (else dataset order).
    public let shuffle: Bool
    /// Whether the last partial global batch of an epoch is skipped.
    public let dropLast: Bool
    /// Global batches in one epoch.
    public let stepsPerEpoch: Int
    /// Samples per rank in a full batch (`globalBatch / worldSize`).
    public var localBatch: Int { globalBatch / worldSize }

    private var epoch = 0
    private var stepInEpoch = 0
    private var order: Order?

    /// The visiting order of one epoch, shared by copies of a sampler and replaced (never
    /// overwritten) when the epoch changes, so a copy's view stays valid.
    private final class Order {
        let epoch: Int
        let indices: UnsafeMutableBufferPointer<Int>
        init(epoch: Int, indices: [Int]) {
            self.epoch = epoch
            self.indices = .allocate(capacity: max(indices.count, 1))
            _ = self.indices.initialize(from: indices)
        }
        deinit { indices.deallocate() }
    }

    /// A sampler over `datasetCount` samples for rank `dataParallelRank` of
    /// `dataParallelSize`. `globalBatch` must be a multiple of `dataParallelSize`; with
    /// `dropLast` the dataset must hold at least one global batch.
    public init(datasetCount: Int, globalBatch: Int, dataParallelRank: Int, dataParallelSize: Int, seed: UInt64,
                shuffle: Bool, dropLast: Bool = true) {
        precondition(datasetCount > 0, "Sampler: empty dataset")
        precondition(globalBatch > 0 && dataParallelSize > 0 && globalBatch % dataParallelSize == 0,
                     "Sampler: global batch \(globalBatch) is not a multiple of the data-parallel size \(dataParallelSize)")
        precondition((0..<dataParallelSize).contains(dataParallelRank),
                     "Sampler: rank \(dataParallelRank) outside 0..<\(dataParallelSize)")
        precondition(!dropLast || datasetCount >= globalBatch,
                     "Sampler: \(datasetCount) samples hold no full global batch of \(globalBatch)")
        self.datasetCount = datasetCount
        self.globalBatch = globalBatch
        self.rank = dataParallelRank
        self.worldSize = dataParallelSize
        self.seed = seed
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.stepsPerEpoch = dropLast ? datasetCount / globalBatch : (datasetCount + globalBatch - 1) / globalBatch
    }

    /// The position of the next batch.
    public var state: SamplerState { SamplerState(epoch: epoch, stepInEpoch: stepInEpoch) }

    /// Continues from `state`: the following `next()` calls give the batches an uninterrupted
    /// sampler would have given from that point.
    public mutating func restore(_ state: SamplerState) {
        precondition(state.epoch >= 0 && (0...stepsPerEpoch).contains(state.stepInEpoch),
                     "Sampler.restore: step \(state.stepInEpoch) outside an epoch of \(stepsPerEpoch) steps")
        epoch = state.epoch
        stepInEpoch = state.stepInEpoch
        if stepInEpoch == stepsPerEpoch { epoch += 1; stepInEpoch = 0 }
    }

    /// The dataset order of `epoch` (a permutation when shuffling, else the identity).
    public static func order(epoch: Int, count: Int, seed: UInt64, shuffle: Bool) -> [Int] {
        guard shuffle else { return Array(0..<count) }
        var rng = RNG(seed: seed).fork(UInt64(epoch))
        return rng.permutation(count)
    }

    /// This rank's indices for the next step, then advances.
    public mutating func next() -> SamplerBatch {
        if order == nil || (shuffle && order!.epoch != epoch) {
            order = Order(epoch: epoch, indices: Sampler.order(epoch: epoch, count: datasetCount, seed: seed, shuffle: shuffle))
        }
        let start = stepInEpoch * globalBatch
        let size = min(globalBatch, datasetCount - start)
        // Rank r's slice of the global batch: even split, the first size % W ranks one larger.
        let base = size / worldSize, extra = size % worldSize
        let lo = start + rank * base + min(rank, extra)
        let n = base + (rank < extra ? 1 : 0)
        let batch = SamplerBatch(indices: UnsafeBufferPointer(start: order!.indices.baseAddress! + lo, count: n),
                                 epoch: epoch, stepInEpoch: stepInEpoch, globalBatchSize: size)
        stepInEpoch += 1
        if stepInEpoch == stepsPerEpoch { epoch += 1; stepInEpoch = 0 }
        return batch
    }
}
