import SwNN
import SwTensor

/// One way of combining data-parallel gradients, chosen once at set-up: one type per mode,
/// and the step loop calls the mode only through this protocol (like PyTorch DDP's comm hooks).
///
/// | type | mode |
/// |---|---|
/// | `BlockingAllReduce` | one blocking all-reduce of the bucketed gradient buffer after backward |
/// | `OverlappedAllReduce` | bucket all-reduces started during backward, polled, awaited at the end |
/// | `NodeSharedZeRO1` | node-shared parameters and state, each rank reduces and updates its shard |
/// | `NodeWeightGradientSync` | `NodeSharedZeRO1` with the dense layers' weight gradients formed per node |
/// | `PipelineStageSync` | a pipeline stage's slice, all-reduced over its data-parallel group |
///
/// One optimizer step as the trainer runs it:
/// ```
/// forward, loss, backward                       // gradients accumulate in `gradients`
///   (last micro-batch, when `observesBackward`: backwardProgress(finalFrom:) after each layer)
/// let wait = try sync.finishGradients(summed: needsSum)   // the exchange is complete
/// regularization / clipping on each piece's views (norm: totalSquaredNorm)
/// optimizer over `updates` and `forEachComputedBlock`
/// try sync.publishParameters()                  // peers see the new parameters
/// ```
/// The math (L1/L2, clipping, the optimizer) lives in the trainer; a sync decides which ranges
/// this rank updates and from which buffers. No call of a step allocates.
///
/// A sync is built for one parameter layout. After a model change, `rebuilt(for:stateBuffers:)`
/// makes one for the new layout over the same communicators, and `adopt(_:)` copies the
/// model's (carried) values into its buffers.
public protocol GradientSync: AnyObject {
    /// The flat parameters the model trains in (node-shared memory in the node-shared modes).
    var parameters: Tensor { get }
    /// This rank's flat gradient accumulation buffer (same layout).
    var gradients: Tensor { get }
    /// The flat elements this rank updates each step, as disjoint ranges in increasing order
    /// (the rest are updated by peers, or by other stages); a post-update hook may change these
    /// elements only.
    var ownedRanges: [Range<Int>] { get }
    /// True when this rank writes state shared with its peers (parameters, optimizer state:
    /// on a restore or a rebuild); false on the node's other ranks, which wait in
    /// `publishState()` for the writer.
    var writesSharedState: Bool { get }
    /// Whether the trainer calls `backwardProgress(finalFrom:)` during the last backward.
    var observesBackward: Bool { get }
    /// Gradient bytes this rank exchanged in the last step.
    var bytesLastStep: Int { get }
    /// When the parts of the last step's exchange started and completed (buckets, barriers).
    var timeline: ExchangeTimeline { get }

    /// Copies `model`'s parameter values into `parameters` (one writer per node) and binds
    /// the model's layers to `parameters` and `gradients`. Collective over the node.
    func adopt(_ model: Model) throws
    /// A zeroed buffer of `count` floats for optimizer state (the optimizers' `allocate`).
    func makeStateBuffer(count: Int) -> Tensor
    /// Backward has made the gradients at flat offsets `>= offset` final for this step.
    func backwardProgress(finalFrom offset: Int) throws
    /// Completes the exchange and returns the seconds spent blocked on communication.
    /// With `summed`, the gradient of every piece of `updates` is afterwards in one buffer
    /// (`sources.count == 1`: what regularization and clipping must see).
    func finishGradients(summed: Bool) throws -> Double
    /// The pieces this rank updates after `finishGradients(summed:)`, each a range with the
    /// buffers whose element-wise sum is its gradient (precomputed: no allocation).
    var updates: [GradientUpdate] { get }
    /// Whether `forEachComputedBlock` hands out blocks (gradients computed after backward).
    var hasComputedBlocks: Bool { get }
    /// Computes the gradient blocks of this rank that are formed only now and calls `body`
    /// with each block's flat range and its gradient (scratch, valid during `body`).
    /// `prefetching` (the parameters and optimizer state) is prefetched a block ahead.
    func forEachComputedBlock(prefetching: [Tensor], _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void)
    /// The squared 2-norm of the whole model's gradient, from this rank's share `local`
    /// (the sum over the ranks whose pieces partition the model; `local` itself when this
    /// rank holds all of it).
    func totalSquaredNorm(_ local: Double) throws -> Double
    /// Makes this step's parameter updates visible to the peers; returns the seconds waited.
    func publishParameters() throws -> Double
    /// Orders what the writer (`writesSharedState`) stored before it for every peer.
    func publishState() throws
    /// Stops observing the model's layers (before the model changes).
    func detach()
    /// A sync of the same mode and communicators for `model`'s (new) layout, with room for
    /// `stateBuffers` optimizer state buffers. Collective over the same group.
    func rebuilt(for model: Model, stateBuffers: Int) throws -> any GradientSync
}

/// One range of the flat buffers a rank updates, with its gradient's buffers and views.
public struct GradientUpdate {
    /// The flat elements.
    public let range: Range<Int>
    /// Buffers (of the full count) whose sum over `range` is the gradient, read left to right
    /// and zeroed as read by the update.
    public let sources: [Tensor]
    /// The source this rank owns, into which the others can be summed (`sumGradients`).
    public let accumulator: Tensor
    /// Views of `range` in the parameters and in `accumulator` (for L1/L2 and clipping, once
    /// the gradient is in the accumulator alone).
    public let parameterView: Tensor, gradientView: Tensor

    /// `range` of `parameters`, its gradient summed from `sources`, of which `accumulator`
    /// (by default the first) is this rank's.
    public init(range: Range<Int>, parameters: Tensor, sources: [Tensor], accumulator: Tensor? = nil) {
        let acc = accumulator ?? sources[0]
        precondition(sources.contains { $0 === acc }, "GradientUpdate: the accumulator must be one of the sources")
        self.range = range
        self.sources = sources
        self.accumulator = acc
        parameterView = Tensor(viewing: parameters.pointer + range.lowerBound, shape: [range.count], owner: parameters)
        gradientView = Tensor(viewing: acc.pointer + range.lowerBound, shape: [range.count], owner: acc)
    }
}
