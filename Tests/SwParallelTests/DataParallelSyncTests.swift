import Testing
import SwComm
import SwParallel
import SwTensor

@Suite struct DataParallelSyncTests {
    /// With a local communicator every call is a no-op and gradients stay as they are.
    @Test func localIsNoOp() throws {
        let g = Tensor(shape: [5], values: [1, 2, 3, 4, 5])
        let sync = DataParallelSync(gradients: g, communicator: LocalCommunicator(),
                                    bucketMB: 0.00001, firstBucketMB: 0.00001, average: true)
        try sync.markReady(upTo: 3)
        try sync.poll()
        try sync.finish()
        #expect(g.array == [1, 2, 3, 4, 5])
        #expect(sync.metrics.bytesReduced == 0 && sync.metrics.bucketsStarted == 0)
        #expect(sync.metrics.steps == 1)
        #expect(!sync.inFlight)
    }

    /// markReady starts exactly the buckets lying at or above the offset, in bucket order.
    @Test func markReadyStartsCompleteBucketsInOrder() throws {
        let g = Tensor(zeros: [100])
        let comm = RecordingCommunicator()
        comm.base = g.pointer
        // Buckets of 20 floats, first of 10: [90,100) [70,90) [50,70) [30,50) [10,30) [0,10).
        let sync = DataParallelSync(gradients: g, communicator: comm,
                                    bucketMB: 80.0 / 1048576, firstBucketMB: 40.0 / 1048576, average: false)
        #expect(sync.layout.ranges.map(\.lowerBound) == [90, 70, 50, 30, 10, 0])

        try sync.markReady(upTo: 95)             // nothing entirely above 95
        #expect(comm.calls.isEmpty)
        try sync.markReady(upTo: 75)             // [90,100) only
        #expect(comm.calls.map(\.offset) == [90])
        try sync.markReady(upTo: 75)             // idempotent
        #expect(comm.calls.count == 1)
        try sync.markReady(upTo: 30)             // [70,90) [50,70) [30,50)
        #expect(comm.calls.map(\.offset) == [90, 70, 50, 30])
        #expect(comm.calls.allSatisfy { !$0.blocking })
        try sync.poll()
        try sync.finish()                         // the rest, [0,30), in one blocking call
        #expect(comm.calls.map(\.offset) == [90, 70, 50, 30, 0])
        #expect(comm.calls.map(\.count) == [10, 20, 20, 20, 30])
        #expect(comm.calls.map(\.blocking) == [false, false, false, false, true])
        #expect(sync.metrics.bytesReduced == 400)
        #expect(sync.metrics.bucketsStarted == 6)
        #expect(g.array.allSatisfy { $0 == 10 })
    }

    /// The next step starts from bucket 0 again; averaging scales by 1 / size.
    @Test func stepsRepeatAndAverage() throws {
        let g = Tensor(zeros: [64])
        let comm = RecordingCommunicator(size: 4, others: 6)
        comm.base = g.pointer
        let sync = DataParallelSync(gradients: g, communicator: comm,
                                    bucketMB: 64.0 / 1048576, firstBucketMB: 16.0 / 1048576, average: true)
        for step in 0..<3 {
            g.fill(2)
            try sync.markReady(upTo: 32)
            try sync.finish()
            #expect(g.array.allSatisfy { $0 == 2 }, "step \(step): (2 + 6) / 4")
        }
        #expect(sync.metrics.steps == 3)
        #expect(sync.metrics.bucketsStarted == 3 * sync.layout.bucketCount)
        // Buckets [60,64) [44,60) [28,44) [12,28) [0,12). Every step issues the same calls:
        // the two above offset 32 async, then [0,44) in one blocking call.
        #expect(comm.calls.map(\.offset) == [60, 44, 0, 60, 44, 0, 60, 44, 0])
        #expect(comm.calls.map(\.blocking) == [false, false, true, false, false, true, false, false, true])
        sync.resetMetrics()
        #expect(sync.metrics == SyncMetrics())
    }
}
