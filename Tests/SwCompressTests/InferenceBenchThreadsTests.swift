import Testing
import SwCompress
import SwData
import SwNN
import SwTensor

/// `InferenceBench` times both models at the thread count it is given (swtrain's pool as well
/// as OpenBLAS) and restores the counts it found, both of them.
@Suite(.serialized) struct InferenceBenchThreadsTests {
    /// A pass-through layer that records the pool's thread count at each forward.
    final class PoolProbe: Layer {
        let typeName = "pool_probe"
        let inputShape: [Int]
        var outputShape: [Int] { inputShape }
        var needsInputGradient = true
        var seen: [Int] = []
        init(_ shape: [Int]) { inputShape = shape }
        func replica() -> any Layer { self }
        func forward(_ x: Tensor, training: Bool) -> Tensor { seen.append(ThreadPool.threads); return x }
        func backward(_ dy: Tensor) -> Tensor { dy }
    }

    @Test func timesAtTheGivenThreadsAndRestoresThem() {
        ThreadPool.exclusive {
            ThreadPool.setThreads(2)
            let blasBefore = BLAS.threads
            defer { BLAS.setThreads(blasBefore) }
            BLAS.setThreads(2)
            let blasFound = BLAS.threads   // 2, or 1 with a single-threaded OpenBLAS
            let data = MNIST1D(split: .test, samples: 64)
            let probes = [PoolProbe([40]), PoolProbe([40])]
            let models = probes.map { p in
                Model(network: Sequential([p, Dense(inputShape: [40], units: 10)], inputShape: [40]), loss: SoftmaxCrossEntropy(classes: 10))
            }
            for m in models { m.initialize(seed: 1) }
            let rows = InferenceBench.run(model: models[0], name: "a", peer: models[1], peerName: "b", data: data,
                                          batches: [8], threads: 1, repeats: 3, warmup: 1)
            #expect(rows.count == 1)
            for p in probes { #expect(!p.seen.isEmpty && p.seen.allSatisfy { $0 == 1 }, "pool threads seen: \(p.seen)") }
            #expect(ThreadPool.threads == 2)
            #expect(BLAS.threads == blasFound, "OpenBLAS threads after the bench: \(BLAS.threads), before \(blasFound)")
        }
    }
}
