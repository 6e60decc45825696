import Testing
import SwComm

@Suite struct LocalCommunicatorTests {
    @Test func rankAndSize() {
        let c = LocalCommunicator()
        #expect(c.rank == 0 && c.size == 1 && c.worldRank == 0)
    }

    @Test func reductionsAreIdentity() throws {
        let c = LocalCommunicator()
        var f: [Float] = [1, -2, 3.5]
        try c.allReduce(&f, op: .sum)
        #expect(f == [1, -2, 3.5])
        try c.allReduce(&f, op: .max)
        #expect(f == [1, -2, 3.5])
        var d: [Double] = [0.25, 7]
        try c.allReduce(&d, op: .min)
        #expect(d == [0.25, 7])
        var i: [Int64] = [1 << 40, -3]
        try c.allReduce(&i, op: .sum)
        #expect(i == [1 << 40, -3])
        #expect(try c.allReduce(2.5, op: .sum) == 2.5)
        #expect(try c.allReduce(Int64(9), op: .max) == 9)
    }

    @Test func asyncRequestIsCompleteAtOnce() throws {
        let c = LocalCommunicator()
        var f: [Float] = [4, 5]
        try f.withUnsafeMutableBufferPointer { buf in
            let request = try c.startAllReduce(buf, op: .sum)
            #expect(!request.isActive)
            #expect(try request.test())
            try request.wait()
            // A request is reusable.
            try c.startAllReduce(buf, op: .sum, into: request)
            #expect(try request.test())
        }
        #expect(f == [4, 5])
    }

    @Test func broadcastAndGather() throws {
        let c = LocalCommunicator()
        var f: [Float] = [1, 2]
        try f.withUnsafeMutableBufferPointer { try c.broadcast($0, root: 0) }
        #expect(f == [1, 2])
        var bytes: [UInt8] = [9, 8, 7]
        try bytes.withUnsafeMutableBytes { try c.broadcast($0, root: 0) }
        #expect(bytes == [9, 8, 7])
        #expect(try c.allGather(Int64(42)) == [42])
        #expect(try c.allGather(bytes: [1, 2, 3]) == [[1, 2, 3]])
    }

    @Test func splitAndBarrier() throws {
        let c = LocalCommunicator()
        let sub = try c.split(color: 3, key: 0)
        #expect(sub.size == 1 && sub.rank == 0)
        #expect(sub is LocalCommunicator)
        try c.barrier()
    }

    /// Sending to oneself would block forever under MPI: a precondition failure here.
    @Test func sendToSelfIsAPreconditionFailure() async {
        await #expect(processExitsWith: .failure) {
            let c = LocalCommunicator()
            let f: [Float] = [1]
            try? f.withUnsafeBufferPointer { try c.send($0, to: 0, tag: 0) }
        }
    }

    /// A plain process (no mpirun) picks the local communicator and never initialises MPI.
    @Test(.enabled(if: !MPIRuntime.isLaunchedByMPI, "running under mpirun"))
    func plainProcessDoesNotInitialiseMPI() throws {
        let c = try MPIRuntime.makeWorldCommunicator()
        #expect(c is LocalCommunicator)
        #expect(!MPIRuntime.isInitialized)
    }

    @Test func errorNamesRankOperationAndMessage() {
        let e = CommError(rank: 3, operation: "MPI_Allreduce (sum, 10 floats)",
                          message: "MPI_ERR_TRUNCATE: message truncated", code: 15)
        #expect(e.description == "rank 3: MPI_Allreduce (sum, 10 floats): MPI_ERR_TRUNCATE: message truncated")
    }
}
