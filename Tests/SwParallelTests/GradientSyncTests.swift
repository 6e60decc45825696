import Testing
import SwComm
import SwNN
import SwParallel
import SwTensor

/// The all-reduce sync modes through `GradientSync`, on a pretend two-rank communicator that
/// adds 10 for the other rank and records every all-reduce.
@Suite struct GradientSyncTests {
    /// dense 4 -> 8 -> 3: parameters 0.weight [0, 32), 0.bias [32, 40), 2.weight [40, 64), 2.bias [64, 67).
    static func model() -> Model {
        let a = Dense(inputShape: [4], units: 8), b = Dense(inputShape: [8], units: 3)
        return Model(network: Sequential([a, ReLU(shape: [8]), b], inputShape: [4]), loss: SoftmaxCrossEntropy(classes: 3))
    }

    /// Overlapped: buckets start as backward reports final offsets; blocking: one all-reduce at
    /// the end. Either way every rank updates one piece, the whole sum.
    @Test(arguments: [true, false])
    func bucketedAllReduce(overlapped: Bool) throws {
        let m = Self.model()
        let comm = RecordingCommunicator()
        comm.base = m.parameters.gradients.pointer
        let sync = BucketedAllReduce(model: m, communicator: comm, bucketMB: 40.0 / 1048576, overlapped: overlapped)
        try sync.adopt(m)
        #expect(sync.observesBackward == overlapped)
        m.parameters.gradients.fill(1)
        for offset in m.layerOffsets.reversed() where sync.observesBackward { try sync.backwardProgress(finalFrom: offset) }
        #expect(comm.calls.allSatisfy { !$0.blocking } && comm.calls.isEmpty == !overlapped)
        _ = try sync.finishGradients(summed: false)
        #expect(comm.calls.map(\.count).reduce(0, +) == 67, "every gradient reduced once: \(comm.calls)")
        #expect(overlapped || comm.calls.count == 1 && comm.calls[0].blocking)
        #expect(m.parameters.gradients.array.allSatisfy { $0 == 11 })
        #expect(sync.bytesLastStep == 67 * 4)
        #expect(sync.updates.count == 1 && sync.updates[0].range == 0..<67 && sync.ownedRanges == [0..<67])
        let next = try sync.rebuilt(for: Self.model(), stateBuffers: 0)
        #expect((next as? BucketedAllReduce)?.overlapped == overlapped)
    }

    /// A pipeline stage owning layers 2..<3 reduces and updates only their slice [40, 67).
    @Test func pipelineStageReducesItsSlice() throws {
        let m = Self.model()
        let comm = RecordingCommunicator()
        comm.base = m.parameters.gradients.pointer
        let sync = PipelineStageSync(model: m, layers: 2..<3, dataParallel: comm, pipeline: LocalCommunicator(), bucketMB: 1)
        m.parameters.gradients.fill(1)
        _ = try sync.finishGradients(summed: true)
        #expect(comm.calls.count == 1 && comm.calls[0].offset == 40 && comm.calls[0].count == 27)
        let g = m.parameters.gradients.array
        #expect(g[..<40].allSatisfy { $0 == 1 } && g[40...].allSatisfy { $0 == 11 })
        #expect(sync.ownedRanges == [40..<67] && sync.updates[0].gradientView.count == 27)
    }
}
