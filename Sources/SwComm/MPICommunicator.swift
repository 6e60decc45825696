import CMPI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A communicator over an Open MPI communicator handle: one process per rank.
///
/// Get the world from `MPIRuntime.world()` and groups from `split(color:key:)`. Every call maps
/// to one MPI call (`MPI_Allreduce` with `MPI_IN_PLACE`, `MPI_Iallreduce`, `MPI_Bcast`,
/// `MPI_Allgather`, `MPI_Send`/`MPI_Recv`, `MPI_Isend`/`MPI_Irecv`, `MPI_Comm_split`,
/// `MPI_Comm_split_type`, `MPI_Win_allocate_shared`, `MPI_Barrier`, `MPI_Abort`); non-zero return codes throw `CommError` with
/// `MPI_Error_string`'s text. Counts above `Int32.max` elements are a precondition failure.
///
/// Communicators made by `split` are freed (`MPI_Comm_free`) when released, unless MPI has
/// been finalised by then.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    public let worldRank: Int
    /// The MPI handle, for calls this type does not wrap (benchmarks' raw `MPI_Allreduce`).
    public let handle: MPI_Comm
    private let owned: Bool
    /// The world rank of each member, in this communicator's rank order (the watchdog's report).
    let members: [Int]

    init(handle: MPI_Comm, owned: Bool) throws {
        self.handle = handle
        self.owned = owned
        var r: Int32 = 0, s: Int32 = 0, w: Int32 = 0
        MPI_Comm_rank(swt_mpi_comm_world(), &w)
        self.worldRank = Int(w)
        try MPIError.check(MPI_Comm_rank(handle, &r), rank: Int(w), operation: "MPI_Comm_rank")
        try MPIError.check(MPI_Comm_size(handle, &s), rank: Int(w), operation: "MPI_Comm_size")
        self.rank = Int(r)
        self.size = Int(s)
        self.members = MPICommunicator.worldRanks(of: handle, size: Int(s))
    }

    /// Translates ranks `0..<size` of `comm` to world ranks (local: no communication).
    private static func worldRanks(of comm: MPI_Comm, size: Int) -> [Int] {
        var group: MPI_Group? = nil, worldGroup: MPI_Group? = nil
        guard MPI_Comm_group(comm, &group) == 0, MPI_Comm_group(swt_mpi_comm_world(), &worldGroup) == 0 else {
            return Array(0..<size)
        }
        defer { MPI_Group_free(&group); MPI_Group_free(&worldGroup) }
        var local = (0..<size).map { Int32($0) }
        var world = [Int32](repeating: -1, count: size)
        guard MPI_Group_translate_ranks(group, Int32(size), &local, worldGroup, &world) == 0 else { return Array(0..<size) }
        return world.map { Int($0) }
    }

    deinit {
        if owned && !MPIRuntime.isFinalized {
            var h: MPI_Comm? = handle
            MPI_Comm_free(&h)
        }
    }

    // MARK: reductions

    public func allReduce(_ buffer: UnsafeMutableBufferPointer<Float>, op: ReduceOp) throws {
        try reduceInPlace(UnsafeMutableRawPointer(buffer.baseAddress), buffer.count, swt_mpi_float(), op, "floats")
    }

    public func allReduce(_ buffer: UnsafeMutableBufferPointer<Double>, op: ReduceOp) throws {
        try reduceInPlace(UnsafeMutableRawPointer(buffer.baseAddress), buffer.count, swt_mpi_double(), op, "doubles")
    }

    public func allReduce(_ buffer: UnsafeMutableBufferPointer<Int64>, op: ReduceOp) throws {
        try reduceInPlace(UnsafeMutableRawPointer(buffer.baseAddress), buffer.count, swt_mpi_int64(), op, "int64s")
    }

    public func startAllReduce(_ buffer: UnsafeMutableBufferPointer<Float>, op: ReduceOp,
                               into request: CommRequest) throws {
        try start("MPI_Iallreduce", "\(op), \(buffer.count) floats", elements: buffer.count, into: request) {
            MPI_Iallreduce(swt_mpi_in_place(), buffer.baseAddress, count(buffer.count),
                           swt_mpi_float(), mpiOp(op), handle, &$0)
        }
    }

    /// Starts the non-blocking operation `name` into `request`: `call` gets the fresh handle
    /// to fill and returns the MPI return code; a failure throws naming `name (details)`.
    private func start(_ name: StaticString, _ details: @autoclosure () -> String, elements: Int,
                       into request: CommRequest, _ call: (inout MPI_Request?) -> Int32) throws {
        request.precheckReuse(for: name)
        var started: MPI_Request? = swt_mpi_request_null()
        let rc = call(&started)
        try MPIError.check(rc, rank: worldRank, operation: "\(name) (\(details()))")
        request.activate(started, rank: worldRank, operation: name, elements: elements, members: members)
    }

    private func reduceInPlace(_ base: UnsafeMutableRawPointer?, _ n: Int, _ type: MPI_Datatype,
                               _ op: ReduceOp, _ what: StaticString) throws {
        let rc = CommWatchdog.shared.watch("MPI_Allreduce", n, what, members: members) {
            MPI_Allreduce(swt_mpi_in_place(), base, count(n), type, mpiOp(op), handle)
        }
        try MPIError.check(rc, rank: worldRank, operation: "MPI_Allreduce (\(op), \(n) \(what))")
    }

    // MARK: broadcast and gather

    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws {
        let rc = CommWatchdog.shared.watch("MPI_Bcast", buffer.count, "floats", members: members) {
            MPI_Bcast(buffer.baseAddress, count(buffer.count), swt_mpi_float(), Int32(root), handle)
        }
        try MPIError.check(rc, rank: worldRank, operation: "MPI_Bcast (root \(root), \(buffer.count) floats)")
    }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {
        let rc = CommWatchdog.shared.watch("MPI_Bcast", bytes.count, "bytes", members: members) {
            MPI_Bcast(bytes.baseAddress, count(bytes.count), swt_mpi_byte(), Int32(root), handle)
        }
        try MPIError.check(rc, rank: worldRank, operation: "MPI_Bcast (root \(root), \(bytes.count) bytes)")
    }

    public func allGather(_ bytes: UnsafeRawBufferPointer, into gathered: UnsafeMutableRawBufferPointer) throws {
        precondition(gathered.count == bytes.count * size,
                     "allGather needs \(bytes.count * size) bytes of output for \(size) ranks, got \(gathered.count)")
        let rc = CommWatchdog.shared.watch("MPI_Allgather", bytes.count, "bytes per rank", members: members) {
            MPI_Allgather(bytes.baseAddress, count(bytes.count), swt_mpi_byte(),
                          gathered.baseAddress, count(bytes.count), swt_mpi_byte(), handle)
        }
        try MPIError.check(rc, rank: worldRank, operation: "MPI_Allgather (\(bytes.count) bytes per rank)")
    }

    public func allGather(_ values: UnsafeBufferPointer<Int64>, into gathered: UnsafeMutableBufferPointer<Int64>) throws {
        precondition(gathered.count == values.count * size,
                     "allGather needs \(values.count * size) values of output for \(size) ranks, got \(gathered.count)")
        let rc = CommWatchdog.shared.watch("MPI_Allgather", values.count, "int64s per rank", members: members) {
            MPI_Allgather(values.baseAddress, count(values.count), swt_mpi_int64(),
                          gathered.baseAddress, count(values.count), swt_mpi_int64(), handle)
        }
        try MPIError.check(rc, rank: worldRank, operation: "MPI_Allgather (\(values.count) int64s per rank)")
    }

    // MARK: point to point

    public func send(_ buffer: UnsafeBufferPointer<Float>, to destination: Int, tag: Int) throws {
        let rc = CommWatchdog.shared.watch("MPI_Send", buffer.count, "floats", peer: destination, tag: tag, members: members) {
            MPI_Send(buffer.baseAddress, count(buffer.count), swt_mpi_float(), Int32(destination), Int32(tag), handle)
        }
        try MPIError.check(rc, rank: worldRank,
                           operation: "MPI_Send (to \(destination), tag \(tag), \(buffer.count) floats)")
    }

    public func recv(_ buffer: UnsafeMutableBufferPointer<Float>, from source: Int, tag: Int) throws {
        let rc = CommWatchdog.shared.watch("MPI_Recv", buffer.count, "floats", peer: source, tag: tag, members: members) {
            MPI_Recv(buffer.baseAddress, count(buffer.count), swt_mpi_float(),
                     Int32(source), Int32(tag), handle, swt_mpi_status_ignore())
        }
        try MPIError.check(rc, rank: worldRank,
                           operation: "MPI_Recv (from \(source), tag \(tag), \(buffer.count) floats)")
    }

    public func isend(_ buffer: UnsafeBufferPointer<Float>, to destination: Int, tag: Int,
                      into request: CommRequest) throws {
        try start("MPI_Isend", "to \(destination), tag \(tag), \(buffer.count) floats", elements: buffer.count, into: request) {
            MPI_Isend(buffer.baseAddress, count(buffer.count), swt_mpi_float(),
                      Int32(destination), Int32(tag), handle, &$0)
        }
    }

    public func irecv(_ buffer: UnsafeMutableBufferPointer<Float>, from source: Int, tag: Int,
                      into request: CommRequest) throws {
        try start("MPI_Irecv", "from \(source), tag \(tag), \(buffer.count) floats", elements: buffer.count, into: request) {
            MPI_Irecv(buffer.baseAddress, count(buffer.count), swt_mpi_float(),
                      Int32(source), Int32(tag), handle, &$0)
        }
    }

    // MARK: groups and control

    public func split(color: Int, key: Int) throws -> any Communicator {
        precondition(color >= 0, "split color must be >= 0, got \(color)")
        var newComm: MPI_Comm? = swt_mpi_comm_null()
        let rc = MPI_Comm_split(handle, Int32(color), Int32(key), &newComm)
        try MPIError.check(rc, rank: worldRank, operation: "MPI_Comm_split (color \(color), key \(key))")
        guard let made = newComm, made != swt_mpi_comm_null() else {
            throw CommError(rank: worldRank, operation: "MPI_Comm_split (color \(color), key \(key))",
                            message: "MPI returned MPI_COMM_NULL")
        }
        try MPIError.check(MPI_Comm_set_errhandler(made, swt_mpi_errors_return()), rank: worldRank,
                           operation: "MPI_Comm_set_errhandler (split communicator)")
        return try MPICommunicator(handle: made, owned: true)
    }

    public func splitByNode() throws -> any Communicator {
        var newComm: MPI_Comm? = swt_mpi_comm_null()
        let what = "MPI_Comm_split_type (MPI_COMM_TYPE_SHARED)"
        let rc = MPI_Comm_split_type(handle, Int32(swt_mpi_comm_type_shared()), Int32(rank), swt_mpi_info_null(), &newComm)
        try MPIError.check(rc, rank: worldRank, operation: what)
        guard let made = newComm, made != swt_mpi_comm_null() else {
            throw CommError(rank: worldRank, operation: what, message: "MPI returned MPI_COMM_NULL")
        }
        try MPIError.check(MPI_Comm_set_errhandler(made, swt_mpi_errors_return()), rank: worldRank,
                           operation: "MPI_Comm_set_errhandler (node communicator)")
        return try MPICommunicator(handle: made, owned: true)
    }

    public func allocateShared(bytes: Int) throws -> SharedMemory {
        try SharedMemory(mpi: self, bytes: bytes)
    }

    public func barrier() throws {
        let rc = CommWatchdog.shared.watch("MPI_Barrier", 0, "", members: members) { MPI_Barrier(handle) }
        try MPIError.check(rc, rank: worldRank, operation: "MPI_Barrier")
    }

    public func abort(code: Int32) -> Never {
        fflush(nil)
        // MPI_Abort on the world ends every rank; on a sub-communicator Open MPI ends all anyway.
        MPI_Abort(swt_mpi_comm_world(), code)
        exit(code)
    }

    // MARK: helpers

    private func count(_ n: Int) -> Int32 {
        precondition(n <= Int(Int32.max), "\(n) elements exceed MPI's Int32 count; split the buffer")
        return Int32(n)
    }

    private func mpiOp(_ op: ReduceOp) -> MPI_Op {
        switch op {
        case .sum: return swt_mpi_sum()
        case .max: return swt_mpi_max()
        case .min: return swt_mpi_min()
        }
    }
}
