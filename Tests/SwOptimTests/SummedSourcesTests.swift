import Testing
import SwOptim
import SwTensor

/// The summing step equals, bit for bit, summing the sources in Float first and taking the
/// one-source step; with `zeroSources` exactly `range` of every source becomes +0.
@Suite struct SummedSourcesTests {
    static func make(_ kind: String, _ n: Int) -> any Optimizer {
        switch kind {
        case "sgd": return SGD(count: n, momentum: 0.9, nesterov: true, weightDecay: 0.01)
        case "sgd-damp": return SGD(count: n, momentum: 0.8, dampening: 0.25, weightDecay: 0.02)
        case "adam": return Adam(count: n, weightDecay: 0.01)
        default: return AdamW(count: n)
        }
    }

    @Test(arguments: ["sgd", "sgd-damp", "adam", "adamw"], [1, 2, 3])
    func summedStepEqualsPresummedStep(kind: String, sourceCount: Int) {
        let n = 101, range = 13..<90                    // odd length, odd unaligned sub-range
        var rng = RNG(seed: 7 + UInt64(sourceCount))
        let p0 = randomTensor(n, &rng)
        let presummed = p0.copy(), summed = p0.copy()
        let a = Self.make(kind, n), b = Self.make(kind, n)
        for step in 0..<4 {
            let zero = step != 2                        // one step without zeroing
            let sources = (0..<sourceCount).map { _ in randomTensor(n, &rng) }
            let originals = sources.map(\.array)
            let lr = rng.uniform(0.01, 0.1)
            a.step(parameters: presummed, gradients: Tensor(shape: [n], values: floatSum(originals)), lr: lr,
                   range: range)
            b.step(parameters: summed, summing: sources, lr: lr, range: range, zeroSources: zero)

            #expect(bits(summed) == bits(presummed), "step \(step): parameters")
            for ((name, sa), (_, sb)) in zip(a.stateTensors, b.stateTensors) {
                #expect(bits(sb) == bits(sa), "step \(step): \(name)")
            }
            for (k, (s, original)) in zip(sources, originals).enumerated() {
                let want = original.indices.map { zero && range.contains($0) ? Float(0) : original[$0] }
                #expect(bits(s) == bits(want), "step \(step): source \(k) (zeroSources \(zero))")
            }
        }
        #expect(a.stepCount == 4 && b.stepCount == 4)
        // Outside the range nothing moved.
        for i in 0..<n where !range.contains(i) { #expect(summed[flat: i].bitPattern == p0[flat: i].bitPattern) }
    }

    /// Plain SGD (no momentum buffer) through the summing step, whole buffer.
    @Test func plainSGDWholeBuffer() {
        var rng = RNG(seed: 3)
        let n = 37
        let p0 = randomTensor(n, &rng)
        let presummed = p0.copy(), summed = p0.copy()
        let a = SGD(count: n, weightDecay: 0.1), b = SGD(count: n, weightDecay: 0.1)
        let sources = [randomTensor(n, &rng), randomTensor(n, &rng)]
        a.step(parameters: presummed, gradients: Tensor(shape: [n], values: floatSum(sources.map(\.array))), lr: 0.05)
        b.step(parameters: summed, summing: sources, lr: 0.05, zeroSources: true)
        #expect(bits(summed) == bits(presummed))
        #expect(sources.allSatisfy { bits($0) == Array(repeating: 0, count: n) })
    }
}

/// The `allocate` hook makes the state buffers, which the optimizer then updates in place.
@Suite struct StateAllocationTests {
    @Test(arguments: ["sgd", "adam", "adamw"])
    func stateLivesWhereAllocated(kind: String) {
        let n = 21
        let arena = Tensor(zeros: [2 * n + 5])         // stands in for node-shared memory
        var handedOut: [Tensor] = []
        let allocate: (Int) -> Tensor = { count in
            let view = Tensor(viewing: arena.pointer + 5 + handedOut.count * count, shape: [count], owner: arena)
            handedOut.append(view)
            return view
        }
        let opt: any Optimizer
        switch kind {
        case "sgd": opt = SGD(count: n, momentum: 0.9, allocate: allocate)
        case "adam": opt = Adam(count: n, allocate: allocate)
        default: opt = AdamW(count: n, allocate: allocate)
        }
        #expect(handedOut.count == opt.stateTensors.count)
        for ((_, t), view) in zip(opt.stateTensors, handedOut) { #expect(t === view) }

        var rng = RNG(seed: 5)
        opt.step(parameters: randomTensor(n, &rng), gradients: randomTensor(n, &rng), lr: 0.1)
        // The update wrote into the arena, after its 5 leading elements (left alone).
        #expect(arena.array.prefix(5).allSatisfy { $0 == 0 })
        #expect(arena.array[5..<(5 + n)].contains { $0 != 0 })
    }

    @Test func plainSGDAllocatesNothing() {
        var calls = 0
        _ = SGD(count: 8, allocate: { calls += 1; return Tensor(zeros: [$0]) })
        #expect(calls == 0)
    }
}
