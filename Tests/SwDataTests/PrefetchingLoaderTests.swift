import Testing
import SwData
import SwTensor

/// The prefetching loader hands out exactly the batches `sampler.next()` + `gather` give, over
/// epochs, a short last batch, and a sampler restored to another position mid-run.
@Suite struct PrefetchingLoaderTests {
    /// 23 samples of 3 values (sample i holds i, i + 0.25, i + 0.5; target i).
    static func dataset() -> InMemoryDataset {
        let n = 23
        return InMemoryDataset(inputs: (0..<n).flatMap { i in [Float(i), Float(i) + 0.25, Float(i) + 0.5] }, sampleShape: [3],
                               targets: (0..<n).map(Float.init), classes: nil)
    }

    @Test(arguments: [1, 2, 4])
    func theSameBatchesAsGatheringDirectly(depth: Int) {
        let data = Self.dataset()
        for rank in 0..<2 {
            var direct = Sampler(datasetCount: data.count, globalBatch: 6, dataParallelRank: rank, dataParallelSize: 2,
                                 seed: 11, shuffle: true, dropLast: false)
            var ahead = direct
            let loader = PrefetchingLoader(dataset: data, batchRows: 3, inputShape: [1, 3], depth: depth)
            for step in 0..<40 {
                if step == 17 {   // a resume to another position: what was gathered ahead is stale
                    let s = SamplerState(epoch: 5, stepInEpoch: 2)
                    try! direct.restore(s)
                    try! ahead.restore(s)
                }
                let b = direct.next()
                let want = data.batch(Array(b.indices))
                let got = loader.next(&ahead)
                #expect(Array(got.batch.indices) == Array(b.indices) && got.batch.globalBatchSize == b.globalBatchSize)
                #expect(got.inputs.shape == [b.indices.count, 1, 3] && got.targets.shape == [b.indices.count])
                #expect(got.inputs.array == want.inputs.array && got.targets.array == want.targets.array,
                        "rank \(rank) step \(step) depth \(depth)")
                #expect(ahead.state == direct.state)
            }
        }
    }
}
