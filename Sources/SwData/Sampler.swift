import SwTensor

/// Where a sampler is: the next batch to produce is step `stepInEpoch` of epoch `epoch`.
/// The order itself is a function of the seed and epoch, so this is all a checkpoint needs,
/// and it does not depend on the world size: a state saved at 4 ranks restores at 2.
///
/// The sampler also records what the position is relative to (`globalBatch`, `datasetCount`,
/// `seed`, `shuffle`) so that `Sampler.restore` can tell a changed set-up from a resumable one.
/// They are optional: a state written before they existed decodes with them `nil`.
/// JSON: `{"epoch", "step_in_epoch", "global_batch", "dataset_count", "seed", "shuffle"}`
/// (`stepInEpoch` is also read).
public struct SamplerState: Codable, Sendable, Equatable {
    /// The epoch of the next batch (0-based).
    public var epoch: Int
    /// The step of the next batch within its epoch (0-based).
    public var stepInEpoch: Int
    /// The global batch the steps count in (nil: unknown, assumed unchanged).
    public var globalBatch: Int?
    /// The number of samples the epoch permutation is over (nil: unknown).
    public var datasetCount: Int?
    /// The seed of the epoch permutations (nil: unknown).
    public var seed: UInt64?
    /// Whether epochs were shuffled (nil: unknown).
    public var shuffle: Bool?

    public init(epoch: Int = 0, stepInEpoch: Int = 0, globalBatch: Int? = nil, datasetCount: Int? = nil,
                seed: UInt64? = nil, shuffle: Bool? = nil) {
        self.epoch = epoch
        self.stepInEpoch = stepInEpoch
        self.globalBatch = globalBatch
        self.datasetCount = datasetCount
        self.seed = seed
        self.shuffle = shuffle
    }

    private enum Keys: String, CodingKey {
        case epoch, stepInEpoch = "step_in_epoch", camelStep = "stepInEpoch", globalBatch = "global_batch"
        case datasetCount = "dataset_count", seed, shuffle
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        epoch = try c.decode(Int.self, forKey: .epoch)
        if let s = try c.decodeIfPresent(Int.self, forKey: .stepInEpoch) {
            stepInEpoch = s
        } else {
            stepInEpoch = try c.decode(Int.self, forKey: .camelStep)
        }
        globalBatch = try c.decodeIfPresent(Int.self, forKey: .globalBatch)
        datasetCount = try c.decodeIfPresent(Int.self, forKey: .datasetCount)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
        shuffle = try c.decodeIfPresent(Bool.self, forKey: .shuffle)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(stepInEpoch, forKey: .stepInEpoch)
        try c.encodeIfPresent(globalBatch, forKey: .globalBatch)
        try c.encodeIfPresent(datasetCount, forKey: .datasetCount)
        try c.encodeIfPresent(seed, forKey: .seed)
        try c.encodeIfPresent(shuffle, forKey: .shuffle)
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

    /// The position of the next batch, with the set-up it counts in.
    public var state: SamplerState {
        SamplerState(epoch: epoch, stepInEpoch: stepInEpoch, globalBatch: globalBatch, datasetCount: datasetCount,
                     seed: seed, shuffle: shuffle)
    }

    /// The largest epoch `restore` accepts (far beyond any run; keeps `epoch + 1` from overflowing).
    public static let maxEpoch = 1 << 40

    /// Continues from `state`: the following `next()` calls give the batches an uninterrupted
    /// sampler would have given from that point. Never traps; a state that does not fit throws.
    ///
    /// - Same global batch (or none recorded): `stepInEpoch` must lie in `0...stepsPerEpoch`
    ///   (`stepsPerEpoch` means the epoch is over: the next batch is step 0 of `epoch + 1`).
    ///   The world size may differ: a global batch is the same samples whatever it is.
    /// - Another global batch `B'` over the same data (same `datasetCount`, `seed`, `shuffle`,
    ///   so epoch `epoch` visits the same permutation): the samples seen in this epoch are the
    ///   first `p = min(stepInEpoch * B, datasetCount)` positions of that permutation, and the
    ///   next step is the first batch boundary at or after `p`: `ceil(p / B')`. The up to
    ///   `B' - 1` positions between `p` and that boundary are skipped this epoch (none is seen
    ///   twice); when the boundary is at or past the end of the epoch, the next batch is step 0
    ///   of `epoch + 1`. Saved with `B = 32` at step 3 (`p = 96`), `B' = 40` resumes at step 3
    ///   (position 120), skipping positions 96..<120.
    /// - Another data set size, seed or shuffle: the permutation differs, the position means
    ///   nothing, and `SamplerError.changed` names the old and new values.
    /// - Negative or out-of-range numbers (an edited `trainer_state.json`): `SamplerError.invalid`.
    public mutating func restore(_ state: SamplerState) throws(SamplerError) {
        guard (0...Sampler.maxEpoch).contains(state.epoch) else {
            throw .invalid(field: "epoch", value: state.epoch, expected: "0...\(Sampler.maxEpoch)")
        }
        if let n = state.datasetCount, n != datasetCount {
            throw .changed(what: "data set size", saved: "\(n) samples", current: "\(datasetCount) samples")
        }
        if let s = state.seed, s != seed { throw .changed(what: "seed", saved: "\(s)", current: "\(seed)") }
        if let s = state.shuffle, s != shuffle { throw .changed(what: "shuffle", saved: "\(s)", current: "\(shuffle)") }
        if let b = state.globalBatch, b <= 0 {
            throw .invalid(field: "global_batch", value: b, expected: "a positive batch size")
        }
        let saved = state.globalBatch ?? globalBatch
        if saved == globalBatch {
            guard (0...stepsPerEpoch).contains(state.stepInEpoch) else {
                throw .invalid(field: "step_in_epoch", value: state.stepInEpoch,
                               expected: "0...\(stepsPerEpoch) (an epoch of \(datasetCount) samples has \(stepsPerEpoch) steps of \(globalBatch))")
            }
            epoch = state.epoch
            stepInEpoch = state.stepInEpoch
        } else {
            let savedSteps = (datasetCount + saved - 1) / saved
            guard (0...savedSteps).contains(state.stepInEpoch) else {
                throw .invalid(field: "step_in_epoch", value: state.stepInEpoch,
                               expected: "0...\(savedSteps) (an epoch of \(datasetCount) samples has at most \(savedSteps) steps of \(saved))")
            }
            let position = min(state.stepInEpoch * saved, datasetCount)
            epoch = state.epoch
            stepInEpoch = (position + globalBatch - 1) / globalBatch
        }
        if stepInEpoch >= stepsPerEpoch { epoch += 1; stepInEpoch = 0 }
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

/// Why `Sampler.restore` refused a saved position.
public enum SamplerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The set-up the position counts in changed in a way no position can be carried over.
    case changed(what: String, saved: String, current: String)
    /// A number of the state is out of range (the file was edited or is corrupt).
    case invalid(field: String, value: Int, expected: String)

    /// What is wrong.
    public var message: String {
        switch self {
        case .changed(let what, let saved, let current):
            return "the sampler position was saved with \(what) \(saved), this run has \(current)"
        case .invalid(let field, let value, let expected):
            return "sampler.\(field) is \(value), expected \(expected)"
        }
    }

    /// How to fix it.
    public var hint: String {
        switch self {
        case .changed(let what, _, _):
            return "resume with the same data and seed, or start a fresh run from these weights (model.init_from) "
                + "so the \(what) can change"
        case .invalid:
            return "trainer_state.json was edited or damaged; restore it from a copy or resume from another checkpoint"
        }
    }

    public var description: String { "\(message)\n  hint: \(hint)" }
}
