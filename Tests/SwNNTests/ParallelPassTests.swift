import Foundation
import Testing
@testable import SwNN
import SwTensor

/// The passes that run over the pool in fixed blocks (dense bias copy and column sums, the
/// cross-entropy rows, the token / position embedding): the same bits at 1, 2 and 3 threads,
/// and the bits of the plain one-thread loops they replaced (the same additions in the same
/// order), on shapes with uneven last blocks.
@Suite(.serialized) struct ParallelPassTests {
    static func randoms(_ n: Int, seed: UInt64) -> [Float] {
        var rng = RNG(seed: seed)
        return (0..<n).map { _ in rng.uniform(-1, 1) }
    }

    /// `body` at 1, 2 and 3 pool threads; the pool is left at one thread.
    static func atThreads<T>(_ body: () -> T) -> [T] {
        ThreadPool.exclusive {
            return [1, 2, 3].map { ThreadPool.setThreads($0); return body() }
        }
    }

    /// Column sums (rows added in order, from the old value) against the plain row loop, for
    /// widths with 64-, 16- and 1-column parts, below and above the parallel threshold.
    @Test(arguments: [(700, 130), (9, 7), (1, 200), (2000, 96), (513, 16), (300, 250)])
    func denseBiasColumnSums(shape: (Int, Int)) {
        let (rows, columns) = shape
        let dy = Self.randoms(rows * columns, seed: 3)
        let start = Self.randoms(columns, seed: 4)
        var plain = start
        for r in 0..<rows { for j in 0..<columns { plain[j] += dy[r * columns + j] } }
        let got = Self.atThreads { () -> [Float] in
            var db = start
            db.withUnsafeMutableBufferPointer { d in
                DenseBias.accumulateColumnSums(dy, rows: rows, columns: columns, into: d.baseAddress!)
            }
            return db
        }
        for (t, g) in got.enumerated() {
            #expect(g.map(\.bitPattern) == plain.map(\.bitPattern), "\(shape), \(t + 1) threads")
        }
    }

    @Test(arguments: [(700, 130), (3, 5), (300, 250)])
    func denseBiasBroadcast(shape: (Int, Int)) {
        let (rows, columns) = shape
        let bias = Self.randoms(columns, seed: 5)
        for y in Self.atThreads({ () -> [Float] in
            var y = [Float](repeating: .nan, count: rows * columns)
            y.withUnsafeMutableBufferPointer { DenseBias.broadcast(bias, into: $0.baseAddress!, rows: rows, columns: columns) }
            return y
        }) {
            #expect((0..<rows).allSatisfy { r in (0..<columns).allSatisfy { y[r * columns + $0] == bias[$0] } })
        }
    }

    /// The loss, the count of right predictions and the gradient, against the plain row loop
    /// (the loss summed in Double over the rows in order), over 3 blocks of rows, the last short.
    @Test func crossEntropyRows() {
        let (rows, classes) = (600, 13)
        let logits = Self.randoms(rows * classes, seed: 6).map { 4 * $0 }
        var rng = RNG(seed: 7)
        let labels = (0..<rows).map { _ in Float(rng.nextUInt32() % UInt32(classes)) }
        let scale: Float = 1 / Float(rows)
        var plainSum = 0.0, plainCorrect = 0
        var plainGrad = [Float](repeating: 0, count: rows * classes)
        for r in 0..<rows {
            let row = Array(logits[(r * classes)..<((r + 1) * classes)]), target = Int(labels[r])
            var mx = row[0], arg = 0
            for j in 1..<classes where row[j] > mx { mx = row[j]; arg = j }
            if arg == target { plainCorrect += 1 }
            var z: Float = 0
            for j in 0..<classes { z += expf(row[j] - mx) }
            plainSum += Double(logf(z) - (row[target] - mx))
            for j in 0..<classes { plainGrad[r * classes + j] = expf(row[j] - mx) * (scale / z) }
            plainGrad[r * classes + target] -= scale
        }
        let loss = SoftmaxCrossEntropy(classes: classes)
        let output = Tensor(shape: [rows, classes], values: logits), targets = Tensor(shape: [rows], values: labels)
        for (t, (result, grad)) in Self.atThreads({ () -> (LossResult, [Float]) in
            let g = Tensor(zeros: [rows, classes])
            let result = loss.evaluate(output: output, targets: targets, gradient: g, gradientScale: scale)
            return (result, g.array)
        }).enumerated() {
            #expect(result.sum.bitPattern == plainSum.bitPattern, "\(t + 1) threads: \(result.sum) vs \(plainSum)")
            #expect(result.correct == plainCorrect && result.terms == rows)
            #expect(grad.map(\.bitPattern) == plainGrad.map(\.bitPattern), "\(t + 1) threads")
        }
    }

    /// Forward rows and the accumulated token / position gradients (repeated ids, 130
    /// columns: blocks of 64, 64 and 2) against the plain loops over the tokens in order.
    @Test func tokenPositionEmbedding() {
        let (vocab, dim, T, batch) = (9, 130, 12, 100)
        let layer = TokenPositionEmbedding(inputShape: [T], vocab: vocab, dim: dim, context: T)
        let store = ParameterStore(root: layer)
        var rng = RNG(seed: 8)
        layer.resetAllParameters(rng: &rng)
        let ids = (0..<(batch * T)).map { _ in Float(rng.nextUInt32() % UInt32(vocab)) }
        let x = Tensor(shape: [batch, T], values: ids)
        let dy = Tensor(shape: [batch, T, dim], values: Self.randoms(batch * T * dim, seed: 9))
        let p = store.values.array
        let tokOffset = store.entry("tok.weight")!.offset, posOffset = store.entry("pos.weight")!.offset
        var plainY = [Float](repeating: 0, count: batch * T * dim)
        var plainG = [Float](repeating: 0, count: store.count)
        for i in 0..<(batch * T) {
            let id = Int(ids[i])
            for j in 0..<dim {
                plainY[i * dim + j] = p[tokOffset + id * dim + j] + p[posOffset + (i % T) * dim + j]
                plainG[tokOffset + id * dim + j] += dy.array[i * dim + j]
                plainG[posOffset + (i % T) * dim + j] += dy.array[i * dim + j]
            }
        }
        for (t, (y, g)) in Self.atThreads({ () -> ([Float], [Float]) in
            store.zeroGradients()
            let y = layer.forward(x, training: true).array
            _ = layer.backward(dy)
            return (y, store.gradients.array)
        }).enumerated() {
            #expect(y.map(\.bitPattern) == plainY.map(\.bitPattern), "forward, \(t + 1) threads")
            #expect(g.map(\.bitPattern) == plainG.map(\.bitPattern), "backward, \(t + 1) threads")
        }
    }
}
