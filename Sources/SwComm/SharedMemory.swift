import CMPI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Memory that every rank of a one-node communicator can load and store directly: each rank
/// contributes a segment (`MPI_Win_allocate_shared`) and sees every other rank's segment at
/// `segment(_:)`. Reading a peer's gradients in place costs one pass over memory, where a
/// shared-memory all-reduce copies them twice.
///
/// Ordering: stores become visible to the other ranks after `synchronize()` on the writer,
/// a barrier, and `synchronize()` on the reader (MPI's separate memory model; on x86 the
/// barrier alone orders them, `MPI_Win_sync` keeps it correct elsewhere). The window is held
/// in a passive-target epoch (`MPI_Win_lock_all`) from creation, as `MPI_Win_sync` requires.
///
/// Segments start on 64-byte boundaries (cache lines: ranks writing neighbouring segments do
/// not share a line). Contents are undefined at allocation: zero what you read.
///
/// Freeing (`MPI_Win_free`) is collective: every rank of the communicator must release its
/// `SharedMemory` at the same point (the trainer that owns it ends on every rank together).
/// Made by `Communicator.allocateShared(bytes:)`.
public final class SharedMemory {
    /// Each rank's segment, in rank order.
    public let segments: [UnsafeMutableRawPointer]
    /// Each rank's segment size in bytes, in rank order.
    public let sizes: [Int]
    private let window: MPI_Win?
    private let local: UnsafeMutableRawPointer?
    private let rank: Int

    /// A window over `communicator` (which must be an MPI communicator whose ranks share a
    /// node). Collective.
    init(mpi communicator: MPICommunicator, bytes: Int) throws {
        let rank = communicator.worldRank
        let what = "MPI_Win_allocate_shared (\(bytes) bytes on this rank)"
        var base: UnsafeMutableRawPointer?
        var win: MPI_Win? = swt_mpi_win_null()
        let padded = SharedMemory.padded(bytes)
        let rc = withUnsafeMutablePointer(to: &base) { out in
            MPI_Win_allocate_shared(MPI_Aint(padded), 1, swt_mpi_info_null(), communicator.handle,
                                    UnsafeMutableRawPointer(out), &win)
        }
        try MPIError.check(rc, rank: rank, operation: what)
        guard let win else {
            throw CommError(rank: rank, operation: what, message: "MPI returned MPI_WIN_NULL")
        }
        try MPIError.check(MPI_Win_set_errhandler(win, swt_mpi_errors_return()), rank: rank,
                           operation: "MPI_Win_set_errhandler")
        var segments: [UnsafeMutableRawPointer] = []
        var sizes: [Int] = []
        for r in 0..<communicator.size {
            var size: MPI_Aint = 0
            var unit: Int32 = 0
            var ptr: UnsafeMutableRawPointer?
            let q = withUnsafeMutablePointer(to: &ptr) { out in
                MPI_Win_shared_query(win, Int32(r), &size, &unit, UnsafeMutableRawPointer(out))
            }
            try MPIError.check(q, rank: rank, operation: "MPI_Win_shared_query (rank \(r))")
            if size == 0 {   // a rank that contributed nothing: no address to use
                segments.append(UnsafeMutableRawPointer(bitPattern: 64)!)
                sizes.append(0)
                continue
            }
            guard let p = ptr else {
                throw CommError(rank: rank, operation: "MPI_Win_shared_query (rank \(r))",
                                message: "rank \(r)'s segment is not addressable from this process; the ranks are not on one node")
            }
            let aligned = SharedMemory.alignUp(p)
            segments.append(aligned)
            sizes.append(max(0, Int(size) - (aligned - p)))
        }
        try MPIError.check(MPI_Win_lock_all(Int32(swt_mpi_mode_nocheck()), win), rank: rank,
                           operation: "MPI_Win_lock_all")
        self.window = win
        self.local = nil
        self.segments = segments
        self.sizes = sizes
        self.rank = rank
    }

    /// One segment of `bytes` in this process (a communicator of one rank).
    init(localBytes bytes: Int) {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
        window = nil
        local = p
        segments = [p]
        sizes = [bytes]
        rank = 0
    }

    deinit {
        if let local { local.deallocate() }
        if let w = window, !MPIRuntime.isFinalized {
            MPI_Win_unlock_all(w)
            var handle: MPI_Win? = w
            MPI_Win_free(&handle)
        }
    }

    /// Makes this process's stores visible to, and the other ranks' stores visible from, the
    /// shared segments (`MPI_Win_sync`). Call before and after the barrier that publishes.
    public func synchronize() throws {
        guard let window else { return }
        try MPIError.check(MPI_Win_sync(window), rank: rank, operation: "MPI_Win_sync")
    }

    /// `count` floats at `offset` floats into rank `rank`'s segment.
    public func floats(of rank: Int, offset: Int = 0, count: Int) -> UnsafeMutableBufferPointer<Float> {
        precondition((offset + count) * MemoryLayout<Float>.stride <= sizes[rank],
                     "SharedMemory: floats \(offset)..<\(offset + count) outside rank \(rank)'s \(sizes[rank]) bytes")
        let base = segments[rank].bindMemory(to: Float.self, capacity: offset + count)
        return UnsafeMutableBufferPointer(start: base + offset, count: count)
    }

    /// Bytes to request so that a 64-byte-aligned start still leaves `bytes`.
    static func padded(_ bytes: Int) -> Int { bytes == 0 ? 0 : (bytes + 63) / 64 * 64 + 64 }

    static func alignUp(_ p: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        let bits = Int(bitPattern: p)
        return p + ((64 - bits % 64) % 64)
    }
}
