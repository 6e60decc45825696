import CBLAS
import CGemm
import Foundation

/// The process's compute threads: one small pool (`swt_pool_run` in CGemm) with static
/// partitioning that swtrain's own kernels share (the AVX-512 SGEMMs, fused attention, layer
/// norm, the optimizer), and OpenBLAS's thread count, set to the same number.
///
/// Determinism: every kernel splits its work into tasks whose boundaries depend only on the
/// problem's shape (fixed blocks of rows, columns, heads or elements), each task writes its
/// own outputs, and sums across tasks are added in task order. So a result depends on the
/// config, the seed and the world size, and is bit-identical run to run at a fixed thread
/// count; most kernels give the same bits at any thread count (see docs/kernels.md).
/// OpenBLAS's threaded SGEMM may split K differently with the thread count.
public enum ThreadPool {
    /// Where the thread count came from.
    public enum Source: String, Sendable {
        /// The cores this process may run on (sched_getaffinity) ÷ the ranks on this node.
        case automatic = "auto"
        /// `training.threads` or `--threads`.
        case configured = "config"
    }

    /// The pool's thread count (the calling thread included).
    public static var threads: Int { Int(swt_pool_threads()) }

    /// The cores this process may run on (its CPU affinity mask).
    public static var affinityCores: Int { Int(swt_affinity_cores()) }

    /// The ranks of this job on this node: `OMPI_COMM_WORLD_LOCAL_SIZE` (Open MPI), else
    /// `MPI_LOCALNRANKS` (MPICH), else 1.
    public static var localRanks: Int {
        let env = ProcessInfo.processInfo.environment
        for key in ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"] {
            if let v = env[key].flatMap(Int.init), v >= 1 { return v }
        }
        return 1
    }

    /// Threads per process by default: affinity cores ÷ local ranks, at least 1.
    public static var automaticThreads: Int { max(1, affinityCores / localRanks) }

    /// Sets the pool to `n` threads (at least 1). OpenBLAS keeps one thread (unless
    /// `OPENBLAS_NUM_THREADS` says otherwise): its worker threads spin beside the pool's and,
    /// measured on 2 cores, made the MNIST-1D 3x1024 MLP 1.8x slower at 2 threads than at 1,
    /// while the pool alone at 2 threads made it 1.4x faster. With one OpenBLAS thread the
    /// GEMMs left to OpenBLAS also give the same bits at every thread count.
    public static func setThreads(_ n: Int) {
        owner.lock()
        defer { owner.unlock() }
        let n = max(1, min(n, 256))
        swt_pool_set_threads(Int32(n))
        BLAS.ensureSetUp()
        if ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil {
            openblas_set_num_threads(1)
        }
    }

    /// Taken by `setThreads`; held by `exclusive` for its whole body (recursive, so the body may
    /// set the count itself).
    private static let owner = NSRecursiveLock()

    /// Runs `body` with the thread count owned by the caller: `setThreads` from any other thread
    /// waits until `body` returns, and the pool's count found on entry is set again on exit
    /// (the pool's alone: OpenBLAS's count stays as `body` left it). For code that sets the
    /// count and depends on it staying put while it runs: benchmarks at a given count, and
    /// tests, which run in parallel in one process.
    public static func exclusive<T>(_ body: () throws -> T) rethrows -> T {
        owner.lock()
        defer { owner.unlock() }
        let before = swt_pool_threads()
        defer { swt_pool_set_threads(before) }
        return try body()
    }

    /// Resolves and applies the thread count: `configured` when given, else `automaticThreads`.
    /// Returns the count and where it came from.
    @discardableResult
    public static func configure(_ configured: Int?) -> (threads: Int, source: Source) {
        let n = configured ?? automaticThreads
        setThreads(n)
        return (threads, configured == nil ? .automatic : .configured)
    }

    /// One line for the start-up log: the pool threads, their source, OpenBLAS's threads and
    /// the kernel path.
    public static func describe(source: Source) -> String {
        let how = source == .automatic
            ? "auto: \(affinityCores) core\(affinityCores == 1 ? "" : "s") / \(localRanks) rank\(localRanks == 1 ? "" : "s") on this node"
            : "training.threads"
        return "threads: \(threads) per process (\(how)), OpenBLAS \(BLAS.threads), kernels \(BLAS.ownKernelsEnabled ? "avx512" : "portable")"
    }

    /// Runs `body(t)` for every task `t` in `0..<tasks` over the pool (static contiguous parts;
    /// serially when nested, with one thread or one task). `body` must write only its task's
    /// outputs. Returns when every task is done.
    public static func run(_ tasks: Int, _ body: (Int) -> Void) {
        if tasks <= 0 { return }
        if tasks == 1 || swt_pool_threads() <= 1 || swt_pool_in_task() != 0 {
            for t in 0..<tasks { body(t) }
            return
        }
        withoutActuallyEscaping(body) { f in
            var box = TaskBox(body: f)
            withUnsafeMutablePointer(to: &box) { p in
                swt_pool_run(tasks, { ctx, t in
                    ctx!.assumingMemoryBound(to: TaskBox.self).pointee.body(Int(t))
                }, p)
            }
        }
    }

    /// Runs `body(range)` over `0..<count` split into fixed blocks of `block` elements (the
    /// last shorter): the blocks depend only on `count` and `block`, never on the threads.
    public static func forBlocks(count: Int, block: Int, _ body: (Range<Int>) -> Void) {
        precondition(block > 0)
        let tasks = (count + block - 1) / block
        run(tasks) { t in body((t * block)..<min(count, (t + 1) * block)) }
    }

    private struct TaskBox {
        let body: (Int) -> Void
    }
}
