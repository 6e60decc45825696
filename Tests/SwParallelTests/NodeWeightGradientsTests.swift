import Testing
import SwComm
import SwNN
import SwParallel
import SwTensor

/// `NodeWeightGradients` on one rank: the blocks it hands out cover each dense layer's weight
/// and bias once and hold `dYᵀ X` and the column sums of `dY`, against a Double
/// re-computation, in one block or many, with a short batch (zero-padded staging rows).
/// Stacking several ranks' rows is checked end to end by the data-parallel equivalence tests.
@Suite struct NodeWeightGradientsTests {
    @Test(arguments: [(1 << 20, 13), (64, 13), (64, 9)])
    func blocksHoldTheWeightGradient(blockFloats: Int, rows: Int) throws {
        let inF = 23, outF = 17, batch = 13
        let layer = Dense(inputShape: [inF], units: outF)
        let count = outF * inF + outF
        let sync = try SharedMemorySync(dataParallel: LocalCommunicator(), count: count, stateBuffers: 0)
        let values = Tensor(zeros: [count]), grads = Tensor(zeros: [count])
        layer.bind(parameters: [Tensor(viewing: values.pointer, shape: [outF, inF], owner: values),
                                Tensor(viewing: values.pointer + outF * inF, shape: [outF], owner: values)],
                   gradients: [Tensor(viewing: grads.pointer, shape: [outF, inF], owner: grads),
                               Tensor(viewing: grads.pointer + outF * inF, shape: [outF], owner: grads)])
        var rng = RNG(seed: 9)
        layer.resetParameters(rng: &rng)
        let wg = try NodeWeightGradients(sync: sync, layers: [(layer, 0, outF * inF, batch)], blockFloats: blockFloats)
        wg.attach()
        let x = Tensor(zeros: [rows, inF]); rng.fillUniform(x, -1, 1)
        let dy = Tensor(zeros: [rows, outF]); rng.fillUniform(dy, -1, 1)
        _ = layer.forward(x, training: true)
        _ = layer.backward(dy)
        #expect(grads.array.allSatisfy { $0 == 0 }, "the layer left its own gradient alone")
        var got = [Float](repeating: .nan, count: count)
        var blocks = 0
        wg.forEachBlock { range, g in
            blocks += 1
            for i in range {
                #expect(got[i].isNaN, "element \(i) handed out twice")
                got[i] = g[i - range.lowerBound]
            }
        }
        let perBlock = max(1, blockFloats / inF)
        #expect(blocks == (outF + perBlock - 1) / perBlock + 1)
        for o in 0..<outF {
            for i in 0..<inF {
                var ref = 0.0
                for r in 0..<rows { ref += Double(dy[flat: r * outF + o]) * Double(x[flat: r * inF + i]) }
                #expect(abs(Double(got[o * inF + i]) - ref) <= 1e-5 * max(1, abs(ref)), "dW[\(o), \(i)]")
            }
            var bias = 0.0
            for r in 0..<rows { bias += Double(dy[flat: r * outF + o]) }
            #expect(abs(Double(got[outF * inF + o]) - bias) <= 1e-5 * max(1, abs(bias)), "db[\(o)]")
        }
        // Detached, the layer accumulates its own gradient again: the same numbers.
        wg.detach()
        _ = layer.forward(x, training: true)
        _ = layer.backward(dy)
        for i in 0..<count { #expect(abs(grads[flat: i] - got[i]) <= 1e-5 * max(1, abs(got[i]))) }
    }
}
