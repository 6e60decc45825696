import Foundation
import Testing
import SwData

/// `Sampler.restore` with a state that does not fit the sampler: resumes where the position
/// carries over (another global batch or world size over the same data), refuses with a
/// typed error otherwise; never traps.
@Suite struct SamplerRestoreTests {
    func sampler(count: Int = 100, batch: Int, rank: Int = 0, world: Int = 1, seed: UInt64 = 4,
                 shuffle: Bool = true, dropLast: Bool = true) -> Sampler {
        Sampler(datasetCount: count, globalBatch: batch, dataParallelRank: rank, dataParallelSize: world,
                seed: seed, shuffle: shuffle, dropLast: dropLast)
    }

    /// Batch 8 for 5 steps (positions 0..<40 of epoch 0 seen), resumed with batch 12: the
    /// next step is ceil(40 / 12) = 4, positions 48..<60 of the same permutation.
    @Test func newGlobalBatchStartsAtTheNextBoundary() throws {
        var a = sampler(batch: 8)
        var seen: [Int] = []
        for _ in 0..<5 { seen += Array(a.next().indices) }
        var b = sampler(batch: 12)
        try b.restore(a.state)
        #expect(b.state.epoch == 0 && b.state.stepInEpoch == 4)
        let order = Sampler.order(epoch: 0, count: 100, seed: 4, shuffle: true)
        #expect(seen == Array(order[0..<40]))
        let next = b.next()
        #expect(Array(next.indices) == Array(order[48..<60]))
        #expect(Set(next.indices).isDisjoint(with: seen))
    }

    /// A position on a boundary of the new batch too loses nothing: batch 10 after 6 steps
    /// (60 seen) resumes with batch 20 at step 3, positions 60..<80.
    @Test func boundaryPositionLosesNothing() throws {
        var a = sampler(batch: 10)
        for _ in 0..<6 { _ = a.next() }
        var b = sampler(batch: 20, rank: 1, world: 2)
        try b.restore(a.state)
        #expect(b.state.stepInEpoch == 3)
        let order = Sampler.order(epoch: 0, count: 100, seed: 4, shuffle: true)
        #expect(Array(b.next().indices) == Array(order[70..<80]))
    }

    /// Past the last full batch of the new size: the next epoch, step 0.
    @Test func positionPastTheLastBatchStartsTheNextEpoch() throws {
        var a = sampler(batch: 9)
        for _ in 0..<10 { _ = a.next() }            // 90 of 100 seen
        var b = sampler(batch: 30)                  // 3 steps per epoch; ceil(90/30) = 3
        try b.restore(a.state)
        #expect(b.state.epoch == 1 && b.state.stepInEpoch == 0)
        let order1 = Sampler.order(epoch: 1, count: 100, seed: 4, shuffle: true)
        #expect(Array(b.next().indices) == Array(order1[0..<30]))
    }

    /// A kept partial last batch at the old size (dropLast false) ends the epoch whatever
    /// the new size.
    @Test func finishedEpochWithPartialBatch() throws {
        var a = sampler(batch: 30, dropLast: false)
        for _ in 0..<3 { _ = a.next() }            // 90 seen, next is the partial batch (step 3)
        var b = sampler(batch: 25, dropLast: false)       // ceil(90 / 25) = 4 = its steps per epoch
        try b.restore(a.state)
        #expect(b.state.epoch == 1 && b.state.stepInEpoch == 0)
        _ = a.next()
        #expect(a.state.epoch == 1 && a.state.stepInEpoch == 0)
        var c = sampler(batch: 25, dropLast: false)
        // The old sampler's state after the epoch is (1, 0); a hand-written end-of-epoch
        // state (0, 4 steps of 30 = all 100 seen) also moves on.
        try c.restore(SamplerState(epoch: 0, stepInEpoch: 4, globalBatch: 30, datasetCount: 100, seed: 4, shuffle: true))
        #expect(c.state.epoch == 1 && c.state.stepInEpoch == 0)
    }

    @Test func smallerDataSetIsRefused() {
        var a = sampler(batch: 10)
        for _ in 0..<7 { _ = a.next() }
        var b = sampler(count: 50, batch: 10)
        #expect(throws: SamplerError.changed(what: "data set size", saved: "100 samples", current: "50 samples")) {
            try b.restore(a.state)
        }
        do { try b.restore(a.state) } catch {
            #expect(error.description.contains("100 samples") && error.description.contains("hint:"))
        }
    }

    @Test func otherSeedOrShuffleIsRefused() {
        var a = sampler(batch: 10)
        _ = a.next()
        var b = sampler(batch: 10, seed: 5)
        #expect(throws: SamplerError.changed(what: "seed", saved: "4", current: "5")) { try b.restore(a.state) }
        var c = sampler(batch: 10, shuffle: false)
        #expect(throws: SamplerError.changed(what: "shuffle", saved: "true", current: "false")) { try c.restore(a.state) }
    }

    /// Edited numbers: each is refused naming the field, and the sampler keeps its position.
    @Test(arguments: [
        (SamplerState(epoch: -1, stepInEpoch: 0), "epoch"),
        (SamplerState(epoch: Int.max, stepInEpoch: 10), "epoch"),
        (SamplerState(epoch: 0, stepInEpoch: -3), "step_in_epoch"),
        (SamplerState(epoch: 0, stepInEpoch: 11), "step_in_epoch"),
        (SamplerState(epoch: 0, stepInEpoch: Int.max, globalBatch: 10), "step_in_epoch"),
        (SamplerState(epoch: 0, stepInEpoch: Int.max, globalBatch: 7), "step_in_epoch"),
        (SamplerState(epoch: 0, stepInEpoch: 3, globalBatch: 0), "global_batch"),
        (SamplerState(epoch: 0, stepInEpoch: 3, globalBatch: -8), "global_batch"),
    ])
    func editedStateIsRefused(state: SamplerState, field: String) {
        var s = sampler(batch: 10)
        _ = s.next()
        do {
            try s.restore(state)
            Issue.record("accepted \(state)")
        } catch {
            guard case .invalid(let f, _, _) = error else { Issue.record("\(error)"); return }
            #expect(f == field)
        }
        #expect(s.state.epoch == 0 && s.state.stepInEpoch == 1)
    }

    /// A state written before the set-up fields existed (JSON with only the position, either
    /// key spelling) restores as before, and is range-checked.
    @Test func stateWithoutSetUpDecodesAndRestores() throws {
        for json in [#"{"epoch": 2, "step_in_epoch": 3}"#, #"{"epoch": 2, "stepInEpoch": 3}"#] {
            let state = try JSONDecoder().decode(SamplerState.self, from: Data(json.utf8))
            #expect(state == SamplerState(epoch: 2, stepInEpoch: 3))
            var s = sampler(batch: 10)
            try s.restore(state)
            #expect(s.state.epoch == 2 && s.state.stepInEpoch == 3)
        }
        let full = sampler(batch: 10).state
        let round = try JSONDecoder().decode(SamplerState.self, from: JSONEncoder().encode(full))
        #expect(round == full && round.globalBatch == 10 && round.datasetCount == 100 && round.seed == 4)
    }
}
