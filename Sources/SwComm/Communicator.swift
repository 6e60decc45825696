/// A group of ranks that exchange data: the only way swtrain ranks talk to each other.
///
/// One type per backend: `MPICommunicator` (Open MPI, one process per rank) and
/// `LocalCommunicator` (one process alone, every call returns at once). Layers know nothing of
/// communicators; the trainer hands one to `DataParallelSync` and the pipeline.
///
/// Rules shared by every backend (MPI's rules):
/// - Collectives (`allReduce`, `broadcast`, `allGather`, `split`, `barrier`) must be called by
///   every rank of the communicator, in the same order, with the same counts and operation.
/// - Buffers are plain memory (`Tensor.buffer`, arrays' buffers); reductions work in place.
/// - Calls come from one thread at a time, the thread that created the world
///   (`MPI_THREAD_FUNNELED`).
/// - Failures throw `CommError`; most leave the job unusable, so answer with `fail(_:code:)`.
///
/// Non-blocking calls take a caller-owned `CommRequest` (`into:`) so a training step allocates
/// nothing; the extension adds forms that return a fresh request.
public protocol Communicator: AnyObject {
    /// This process's index in the communicator, `0..<size`.
    var rank: Int { get }
    /// The number of ranks in the communicator.
    var size: Int { get }
    /// This process's rank in the world (what `mpirun` and error messages show).
    var worldRank: Int { get }

    /// Reduces `buffer` element-wise across ranks, in place; every rank ends with the result.
    func allReduce(_ buffer: UnsafeMutableBufferPointer<Float>, op: ReduceOp) throws
    /// Reduces doubles in place (norms, loss totals).
    func allReduce(_ buffer: UnsafeMutableBufferPointer<Double>, op: ReduceOp) throws
    /// Reduces 64-bit integers in place (sample and step counters).
    func allReduce(_ buffer: UnsafeMutableBufferPointer<Int64>, op: ReduceOp) throws

    /// Starts an in-place all-reduce (`MPI_Iallreduce`) and returns at once; `request` tracks it.
    /// `buffer` must not be read or written until the request completes.
    func startAllReduce(_ buffer: UnsafeMutableBufferPointer<Float>, op: ReduceOp,
                        into request: CommRequest) throws

    /// Copies `root`'s `buffer` into every other rank's `buffer`.
    func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws
    /// Copies `root`'s bytes into every other rank's `bytes` (same count on every rank).
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws

    /// Gathers `bytes` from every rank into `gathered`, rank 0 first:
    /// `gathered.count == size * bytes.count`, the same `bytes.count` on every rank.
    func allGather(_ bytes: UnsafeRawBufferPointer, into gathered: UnsafeMutableRawBufferPointer) throws
    /// Gathers `values` from every rank into `gathered` (`size * values.count`), rank 0 first.
    func allGather(_ values: UnsafeBufferPointer<Int64>, into gathered: UnsafeMutableBufferPointer<Int64>) throws

    /// Sends `buffer` to `destination`; returns when `buffer` may be reused.
    func send(_ buffer: UnsafeBufferPointer<Float>, to destination: Int, tag: Int) throws
    /// Receives exactly `buffer.count` floats from `source` with `tag`.
    func recv(_ buffer: UnsafeMutableBufferPointer<Float>, from source: Int, tag: Int) throws
    /// Starts a send and returns at once; `buffer` must stay untouched until `request` completes.
    func isend(_ buffer: UnsafeBufferPointer<Float>, to destination: Int, tag: Int,
               into request: CommRequest) throws
    /// Starts a receive and returns at once; `buffer` is valid once `request` completes.
    func irecv(_ buffer: UnsafeMutableBufferPointer<Float>, from source: Int, tag: Int,
               into request: CommRequest) throws

    /// Splits into sub-communicators: ranks passing the same `color` (>= 0) form one, ordered
    /// by `key` then by rank. Collective over this communicator.
    func split(color: Int, key: Int) throws -> any Communicator
    /// Splits into the groups of ranks that can share memory, one per node
    /// (`MPI_Comm_split_type`, `MPI_COMM_TYPE_SHARED`), ordered by rank. Collective.
    func splitByNode() throws -> any Communicator
    /// Allocates memory every rank of this communicator can load and store: this rank
    /// contributes `bytes` (0 is allowed; ranks may differ) and sees every rank's segment.
    /// Collective; the ranks must share a node (a `splitByNode` group or part of one).
    func allocateShared(bytes: Int) throws -> SharedMemory
    /// Returns once every rank has called it.
    func barrier() throws
    /// Ends every process of the job with `code` (`MPI_Abort`); does not return.
    func abort(code: Int32) -> Never
}
