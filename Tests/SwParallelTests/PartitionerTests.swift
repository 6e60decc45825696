import Testing
import SwNN
import SwParallel
import SwTensor

/// Every contiguous split of `n` items into `parts` non-empty groups.
func allSplits(_ n: Int, _ parts: Int) -> [[Range<Int>]] {
    if parts == 1 { return [[0..<n]] }
    var out: [[Range<Int>]] = []
    for first in 1...(n - parts + 1) {
        for rest in allSplits(n - first, parts - 1) {
            out.append([0..<first] + rest.map { ($0.lowerBound + first)..<($0.upperBound + first) })
        }
    }
    return out
}

func largest(_ split: [Range<Int>], _ w: [Double]) -> Double {
    split.map { r in r.reduce(0) { $0 + w[$1] } }.max()!
}

@Suite struct PartitionerTests {
    @Test(arguments: [1, 2, 3, 4])
    func minMaxSplitIsOptimal(parts: Int) {
        var rng = RNG(seed: UInt64(parts))
        for _ in 0..<30 {
            let n = parts + rng.below(6)
            let w = (0..<n).map { _ in Double(rng.uniform(0, 10)) * (rng.below(3) == 0 ? 10 : 1) }
            let split = Partitioner.minMaxSplit(w, parts: parts)
            #expect(split.count == parts && split.first!.lowerBound == 0 && split.last!.upperBound == n)
            #expect(split.allSatisfy { !$0.isEmpty })
            let best = allSplits(n, parts).map { largest($0, w) }.min()!
            #expect(abs(largest(split, w) - best) < 1e-9)
        }
    }

    @Test func explicitBoundaries() {
        #expect(Partitioner.fromBoundaries([2, 5], layers: 7) == [0..<2, 2..<5, 5..<7])
        #expect(Partitioner.fromBoundaries([5, 2], layers: 7) == nil)
        #expect(Partitioner.fromBoundaries([7], layers: 7) == nil)
    }

    @Test func topologyGroups() throws {
        let t = try #require(Topology(worldSize: 4, stages: 2, rank: 3))
        #expect(t.stage == 1 && t.dataParallelRank == 1 && t.dataParallelSize == 2)
        #expect(t.dataParallelGroup == [2, 3])
        #expect(t.pipelineGroup == [1, 3])
        #expect(Topology(worldSize: 6, stages: 4, rank: 0) == nil)
        // Every rank is in exactly one pipeline and one data-parallel group.
        let all = (0..<8).map { Topology(worldSize: 8, stages: 4, rank: $0)! }
        #expect(Set(all.flatMap(\.pipelineGroup)).count == 8)
        #expect(Set(all.map(\.pipelineGroup)).count == 2)
        #expect(Set(all.map(\.dataParallelGroup)).count == 4)
    }

    /// A model whose layers differ ~100x in cost: the time-balanced plan's slowest stage,
    /// re-measured, is within 25% of the best contiguous split under the same measurement.
    @Test func timePartitionBalancesUnevenLayers() {
        let widths = [(64, 512), (512, 512), (512, 64), (64, 64), (64, 1024), (1024, 256), (256, 16), (16, 16)]
        var layers: [any Layer] = []
        for (i, o) in widths { layers.append(Dense(inputShape: [i], units: o)) }
        let net = Sequential(layers, inputShape: [64])
        let store = ParameterStore(root: net)
        var rng = RNG(seed: 3)
        net.resetAllParameters(rng: &rng)
        let input = Tensor(zeros: [64, 64])
        rng.fillUniform(input, -1, 1)
        var ratios: [Double] = []
        for _ in 0..<3 {
            let planned = Partitioner.profile(net, gradients: store.gradients, input: input, repeats: 5)
            let plan = Partitioner.minMaxSplit(planned.map(\.seconds), parts: 3)
            let measured = Partitioner.profile(net, gradients: store.gradients, input: input, repeats: 5).map(\.seconds)
            let best = allSplits(widths.count, 3).map { largest($0, measured) }.min()!
            ratios.append(largest(plan, measured) / best)
            if ratios.last! <= 1.25 { break }
        }
        #expect(ratios.last! <= 1.25, "slowest stage / best split: \(ratios)")
    }

    @Test func profilingLeavesGradientsAndStreams() {
        let net = Sequential([Dense(inputShape: [8], units: 8), Dropout(shape: [8], p: 0.5)], inputShape: [8])
        let store = ParameterStore(root: net)
        var rng = RNG(seed: 1)
        net.resetAllParameters(rng: &rng)
        store.gradients.fill(0.25)
        let drop = net.layers[1] as! Dropout
        let before = drop.rng.state
        _ = Partitioner.profile(net, gradients: store.gradients, input: Tensor(repeating: 0.5, shape: [4, 8]))
        #expect(drop.rng.state == before)
        #expect(store.gradients.array.allSatisfy { $0 == 0.25 })
    }
}
