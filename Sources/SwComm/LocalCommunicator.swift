#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The communicator of a process running alone: size 1, rank 0, no MPI.
///
/// Every call returns at once: a reduction over one rank is the identity, so `allReduce` and
/// `broadcast` leave buffers as they are, `allGather` copies, requests are complete from the
/// start and `split` gives another local communicator. Sending to or receiving from oneself
/// would block forever under MPI, so it is a precondition failure here.
///
/// `swtrain train config.json` without `mpirun` uses this; it never calls `MPI_Init`.
public final class LocalCommunicator: Communicator {
    public let rank = 0
    public let size = 1
    public let worldRank = 0

    public init() {}

    public func allReduce(_ buffer: UnsafeMutableBufferPointer<Float>, op: ReduceOp) throws {}
    public func allReduce(_ buffer: UnsafeMutableBufferPointer<Double>, op: ReduceOp) throws {}
    public func allReduce(_ buffer: UnsafeMutableBufferPointer<Int64>, op: ReduceOp) throws {}

    public func startAllReduce(_ buffer: UnsafeMutableBufferPointer<Float>, op: ReduceOp,
                               into request: CommRequest) throws {
        request.precheckReuse(for: "startAllReduce")
    }

    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws {
        precondition(root == 0, "broadcast root \(root) out of range for a local communicator (size 1)")
    }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {
        precondition(root == 0, "broadcast root \(root) out of range for a local communicator (size 1)")
    }

    public func allGather(_ bytes: UnsafeRawBufferPointer, into gathered: UnsafeMutableRawBufferPointer) throws {
        precondition(gathered.count == bytes.count,
                     "allGather needs \(bytes.count) bytes of output for 1 rank, got \(gathered.count)")
        gathered.copyMemory(from: bytes)
    }

    public func allGather(_ values: UnsafeBufferPointer<Int64>, into gathered: UnsafeMutableBufferPointer<Int64>) throws {
        precondition(gathered.count == values.count,
                     "allGather needs \(values.count) values of output for 1 rank, got \(gathered.count)")
        _ = gathered.initialize(from: values)
    }

    public func send(_ buffer: UnsafeBufferPointer<Float>, to destination: Int, tag: Int) throws {
        preconditionFailure("send to rank \(destination) on a local communicator (size 1): nobody would receive it")
    }

    public func recv(_ buffer: UnsafeMutableBufferPointer<Float>, from source: Int, tag: Int) throws {
        preconditionFailure("recv from rank \(source) on a local communicator (size 1): nobody would send it")
    }

    public func isend(_ buffer: UnsafeBufferPointer<Float>, to destination: Int, tag: Int,
                      into request: CommRequest) throws {
        preconditionFailure("isend to rank \(destination) on a local communicator (size 1): nobody would receive it")
    }

    public func irecv(_ buffer: UnsafeMutableBufferPointer<Float>, from source: Int, tag: Int,
                      into request: CommRequest) throws {
        preconditionFailure("irecv from rank \(source) on a local communicator (size 1): nobody would send it")
    }

    public func split(color: Int, key: Int) throws -> any Communicator {
        precondition(color >= 0, "split color must be >= 0, got \(color)")
        return LocalCommunicator()
    }

    public func splitByNode() throws -> any Communicator { LocalCommunicator() }

    public func allocateShared(bytes: Int) throws -> SharedMemory { SharedMemory(localBytes: bytes) }

    public func barrier() throws {}

    public func abort(code: Int32) -> Never {
        fflush(nil)
        exit(code)
    }
}
