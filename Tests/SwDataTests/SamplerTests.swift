import Foundation
import Testing
import SwData
import SwTensor

@Suite struct SamplerTests {
    /// `steps` batches of each rank: result[rank][step] = (indices, epoch, step, global size).
    func run(count: Int, batch: Int, world: Int, steps: Int, shuffle: Bool = true, dropLast: Bool = true,
             seed: UInt64 = 11) -> [[[Int]]] {
        (0..<world).map { r in
            var s = Sampler(datasetCount: count, globalBatch: batch, dataParallelRank: r, dataParallelSize: world,
                            seed: seed, shuffle: shuffle, dropLast: dropLast)
            return (0..<steps).map { _ in Array(s.next().indices) }
        }
    }

    @Test func globalBatchIsTheSameWhateverTheWorldSize() {
        for dropLast in [true, false] {
            let single = run(count: 103, batch: 8, world: 1, steps: 40, dropLast: dropLast)[0]
            for world in [1, 2, 4] {
                let ranks = run(count: 103, batch: 8, world: world, steps: 40, dropLast: dropLast)
                for step in 0..<40 {
                    let union = (0..<world).flatMap { ranks[$0][step] }
                    #expect(union == single[step], "W=\(world) step \(step) dropLast=\(dropLast)")
                }
            }
        }
    }

    @Test func epochsArePermutationsAndDiffer() {
        var s = Sampler(datasetCount: 100, globalBatch: 10, dataParallelRank: 0, dataParallelSize: 1, seed: 3,
                        shuffle: true)
        #expect(s.stepsPerEpoch == 10)
        var epochs: [[Int]] = [[], []]
        for _ in 0..<20 {
            let b = s.next()
            #expect(b.globalBatchSize == 10 && b.indices.count == 10)
            epochs[b.epoch] += Array(b.indices)
        }
        #expect(epochs[0].sorted() == Array(0..<100) && epochs[1].sorted() == Array(0..<100))
        #expect(epochs[0] != epochs[1] && epochs[0] != Array(0..<100))
        #expect(epochs[1] == Sampler.order(epoch: 1, count: 100, seed: 3, shuffle: true))
        #expect(s.state.epoch == 2 && s.state.stepInEpoch == 0)
    }

    @Test func noShuffleIsIdentity() {
        let batches = run(count: 10, batch: 4, world: 2, steps: 3, shuffle: false)
        #expect(batches[0] == [[0, 1], [4, 5], [0, 1]])
        #expect(batches[1] == [[2, 3], [6, 7], [2, 3]])
    }

    @Test func dropLastAndPartialBatches() {
        // 10 samples, batch 4: dropLast gives 2 steps; keeping gives a last batch of 2 split over
        // 4 ranks as 1, 1, 0, 0.
        let dropped = Sampler(datasetCount: 10, globalBatch: 4, dataParallelRank: 0, dataParallelSize: 4, seed: 0,
                              shuffle: true)
        #expect(dropped.stepsPerEpoch == 2)
        var sizes: [[Int]] = []
        for r in 0..<4 {
            var s = Sampler(datasetCount: 10, globalBatch: 4, dataParallelRank: r, dataParallelSize: 4, seed: 0,
                            shuffle: true, dropLast: false)
            #expect(s.stepsPerEpoch == 3)
            sizes.append((0..<3).map { _ in s.next().indices.count })
            let b = s.next()
            #expect(b.epoch == 1 && b.stepInEpoch == 0)
        }
        #expect(sizes.map { $0[2] } == [1, 1, 0, 0])
        #expect(sizes.map { $0[0] } == [1, 1, 1, 1])
        var s = Sampler(datasetCount: 10, globalBatch: 4, dataParallelRank: 1, dataParallelSize: 2, seed: 0,
                        shuffle: false, dropLast: false)
        _ = s.next(); _ = s.next()
        let last = s.next()
        #expect(last.globalBatchSize == 2 && Array(last.indices) == [9])
    }

    @Test func resumeGivesIdenticalBatches() throws {
        for world in [1, 2, 4] {
            for rank in 0..<world {
                var a = Sampler(datasetCount: 57, globalBatch: 8, dataParallelRank: rank, dataParallelSize: world,
                                seed: 99, shuffle: true)
                for _ in 0..<13 { _ = a.next() }
                let saved = try JSONEncoder().encode(a.state)
                var b = Sampler(datasetCount: 57, globalBatch: 8, dataParallelRank: rank, dataParallelSize: world,
                                seed: 99, shuffle: true)
                try b.restore(try JSONDecoder().decode(SamplerState.self, from: saved))
                for _ in 0..<20 {
                    let x = a.next(), y = b.next()
                    #expect(Array(x.indices) == Array(y.indices))
                    #expect(x.epoch == y.epoch && x.stepInEpoch == y.stepInEpoch)
                }
            }
        }
    }

    @Test func stateSavedAtFourRanksRestoresAtTwo() throws {
        var four = (0..<4).map {
            Sampler(datasetCount: 64, globalBatch: 16, dataParallelRank: $0, dataParallelSize: 4, seed: 5, shuffle: true)
        }
        for r in 0..<4 { for _ in 0..<9 { _ = four[r].next() } }
        let state = four[0].state
        #expect(four.allSatisfy { $0.state == state })
        var two = (0..<2).map {
            Sampler(datasetCount: 64, globalBatch: 16, dataParallelRank: $0, dataParallelSize: 2, seed: 5, shuffle: true)
        }
        for r in 0..<2 { try two[r].restore(state) }
        for _ in 0..<6 {
            let a = (0..<4).flatMap { Array(four[$0].next().indices) }
            let b = (0..<2).flatMap { Array(two[$0].next().indices) }
            #expect(a == b)
        }
    }

    @Test func gatherFromSamplerBatch() {
        let d = InMemoryDataset(inputs: (0..<20).map(Float.init), sampleShape: [2], targets: (0..<10).map { Float($0 % 3) },
                                classes: 3)
        var s = Sampler(datasetCount: d.count, globalBatch: 4, dataParallelRank: 1, dataParallelSize: 2, seed: 0,
                        shuffle: false)
        let x = Tensor(zeros: [2, 2]), y = Tensor(zeros: [2])
        d.gather(s.next().indices, inputs: x, targets: y)
        #expect(x.array == [4, 5, 6, 7] && y.array == [2, 0])
    }
}
