import SwComm

/// A pretend multi-rank communicator: all-reduce adds a constant "other ranks" contribution (so
/// the result is checkable) and records which slices were reduced, in order, and how.
final class RecordingCommunicator: Communicator {
    let rank = 0
    let size: Int
    let worldRank = 0
    /// What the other ranks contribute to every element of a sum.
    let others: Float
    /// (offset from `base`, count, blocking) of every Float all-reduce, in call order.
    private(set) var calls: [(offset: Int, count: Int, blocking: Bool)] = []
    var base: UnsafeMutablePointer<Float>?

    init(size: Int = 2, others: Float = 10) {
        self.size = size
        self.others = others
    }

    func allReduce(_ buffer: UnsafeMutableBufferPointer<Float>, op: ReduceOp) throws {
        record(buffer, blocking: true)
        add(buffer)
    }
    func allReduce(_ buffer: UnsafeMutableBufferPointer<Double>, op: ReduceOp) throws {}
    func allReduce(_ buffer: UnsafeMutableBufferPointer<Int64>, op: ReduceOp) throws {}

    func startAllReduce(_ buffer: UnsafeMutableBufferPointer<Float>, op: ReduceOp,
                        into request: CommRequest) throws {
        record(buffer, blocking: false)
        add(buffer)                              // completes at once, like a fast network
    }

    private func record(_ buffer: UnsafeMutableBufferPointer<Float>, blocking: Bool) {
        if let base { calls.append((base.distance(to: buffer.baseAddress!), buffer.count, blocking)) }
    }

    private func add(_ buffer: UnsafeMutableBufferPointer<Float>) {
        for i in buffer.indices { buffer[i] += others }
    }

    func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws {}
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {}
    func allGather(_ bytes: UnsafeRawBufferPointer, into gathered: UnsafeMutableRawBufferPointer) throws {}
    func allGather(_ values: UnsafeBufferPointer<Int64>, into gathered: UnsafeMutableBufferPointer<Int64>) throws {}
    func send(_ buffer: UnsafeBufferPointer<Float>, to destination: Int, tag: Int) throws {}
    func recv(_ buffer: UnsafeMutableBufferPointer<Float>, from source: Int, tag: Int) throws {}
    func isend(_ buffer: UnsafeBufferPointer<Float>, to destination: Int, tag: Int, into request: CommRequest) throws {}
    func irecv(_ buffer: UnsafeMutableBufferPointer<Float>, from source: Int, tag: Int, into request: CommRequest) throws {}
    func split(color: Int, key: Int) throws -> any Communicator { self }
    func splitByNode() throws -> any Communicator { self }
    func allocateShared(bytes: Int) throws -> SharedMemory { try LocalCommunicator().allocateShared(bytes: bytes) }
    func barrier() throws {}
    func abort(code: Int32) -> Never { fatalError("abort(\(code))") }
}
