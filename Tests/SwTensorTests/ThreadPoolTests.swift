import Foundation
import Testing
import SwTensor

/// The thread pool (`ThreadPool`): every task runs once, nested calls run inline, and the
/// GEMM kernels split over the pool give the same bits at 1, 2 and 3 threads.
@Suite(.serialized) struct ThreadPoolTests {
    @Test func everyTaskRunsOnce() {
        ThreadPool.exclusive {
            for threads in [1, 2, 3] {
                ThreadPool.setThreads(threads)
                #expect(ThreadPool.threads == threads)
                for tasks in [0, 1, 2, 5, 64, 1000] {
                    var hits = [Int](repeating: 0, count: tasks)
                    hits.withUnsafeMutableBufferPointer { h in
                        let p = h.baseAddress
                        ThreadPool.run(tasks) { t in
                            p![t] += 1
                            // A nested call runs on this thread, in order.
                            var inner = 0
                            ThreadPool.run(3) { _ in inner += 1 }
                            if inner != 3 { p![t] += 100 }
                        }
                    }
                    #expect(hits.allSatisfy { $0 == 1 }, "\(threads) threads, \(tasks) tasks: \(hits.prefix(8))")
                }
            }
        }
    }

    /// Jobs back to back, so the caller often takes tasks of a part whose worker has not
    /// started yet (or is still finishing the last job): each task still runs exactly once.
    @Test func backToBackJobsRunEveryTaskOnce() {
        ThreadPool.exclusive {
            for threads in [2, 3] {
                ThreadPool.setThreads(threads)
                var bad = 0
                for job in 0..<3000 {
                    let tasks = 2 + job % 9
                    var hits = [Int](repeating: 0, count: tasks)
                    hits.withUnsafeMutableBufferPointer { h in
                        let p = h.baseAddress!
                        ThreadPool.run(tasks) { t in p[t] += 1 }
                    }
                    if !hits.allSatisfy({ $0 == 1 }) { bad += 1 }
                }
                #expect(bad == 0, "\(threads) threads: \(bad) of 3000 jobs ran a task twice or not at all")
            }
        }
    }

    /// `exclusive` owns the count: a `setThreads` from another thread, started inside it, lands
    /// only after it returns (and after its restore of the entry count), never in the middle.
    @Test func exclusiveHoldsOffOtherThreads() {
        let outer = ThreadPool.threads
        let started = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        var early = false
        ThreadPool.exclusive {
            ThreadPool.setThreads(2)
            let other = Thread {
                started.signal()
                ThreadPool.setThreads(3)
                done.signal()
            }
            other.start()
            started.wait()
            early = done.wait(timeout: .now() + 0.2) == .success
            #expect(!early, "setThreads from another thread did not wait")
            #expect(ThreadPool.threads == 2)
        }
        if !early { done.wait() }
        #expect(ThreadPool.threads == 3, "the other thread's count, set after the restore to \(outer)")
        ThreadPool.setThreads(outer)
    }

    @Test func blocksAreFixed() {
        ThreadPool.exclusive {
            ThreadPool.setThreads(2)
            var seen = [Int](repeating: -1, count: 103)
            seen.withUnsafeMutableBufferPointer { s in
                let p = s.baseAddress!
                ThreadPool.forBlocks(count: 103, block: 10) { r in for i in r { p[i] = r.lowerBound } }
            }
            #expect(seen == (0..<103).map { $0 / 10 * 10 })
        }
    }

    @Test func automaticThreadsDivideCores() {
        #expect(ThreadPool.affinityCores >= 1)
        #expect(ThreadPool.automaticThreads == max(1, ThreadPool.affinityCores / ThreadPool.localRanks))
    }

    /// `BLAS.gemm` shapes that run on swtrain's kernels, split into blocks over n (and m): the
    /// per-element k order does not change, so 2 and 3 threads give the bits of 1 thread.
    /// Taller products (m > 128 / 256) run as fixed row blocks at any thread count; the last
    /// two are small weights (8 K) that only a tall product sends to the kernels.
    @Test(arguments: [(false, 64, 1000, 300), (true, 64, 1000, 300), (true, 128, 500, 200),
                      (true, 100, 777, 64), (false, 200, 700, 64), (false, 256, 390, 130),
                      (true, 300, 384, 128), (true, 260, 200, 300), (false, 600, 128, 384),
                      (true, 4100, 64, 128), (false, 4097, 128, 64)])
    func gemmBitIdenticalAcrossThreads(shape: (Bool, Int, Int, Int)) throws {
        // On the portable path these products go to OpenBLAS, which keeps one thread (unless
        // OPENBLAS_NUM_THREADS is set), so the bits do not depend on the pool's count either.
        if !BLAS.ownKernelsEnabled && ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] != nil { return }
        try ThreadPool.exclusive {
            let (transB, m, n, k) = shape
            var rng = RNG(seed: 11)
            let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }
            let b = (0..<(n * k)).map { _ in rng.uniform(-1, 1) }
            let c0 = (0..<(m * n)).map { _ in rng.uniform(-1, 1) }
            func run(_ threads: Int, beta: Float) -> [Float] {
                ThreadPool.setThreads(threads)
                var c = c0
                c.withUnsafeMutableBufferPointer { cp in
                    BLAS.gemm(transA: false, transB: transB, m: m, n: n, k: k, a: a, b: b, beta: beta, c: cp.baseAddress!)
                }
                return c
            }
            for beta: Float in [0, 1] {
                let one = run(1, beta: beta)
                #expect(run(2, beta: beta) == one, "\(shape) beta \(beta): 2 threads differ from 1")
                #expect(run(3, beta: beta) == one, "\(shape) beta \(beta): 3 threads differ from 1")
                #expect(run(2, beta: beta) == run(2, beta: beta), "run to run")
                // And the product itself is right (Double reference).
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<n {
                        var s = Double(beta) * Double(c0[i * n + j])
                        for p in 0..<k {
                            s += Double(a[i * k + p]) * Double(transB ? b[j * k + p] : b[p * n + j])
                        }
                        worst = max(worst, abs(s - Double(one[i * n + j])))
                    }
                }
                #expect(worst < 1e-4, "\(shape): max error \(worst)")
            }
        }
    }

    /// Weight gradients `Aᵀ B` over many rows (`swt_sgemm_tn_blocked`): fixed blocks of rows
    /// of C, the same bits at 1, 2 and 3 threads, and right against Double, beta 0 and 1.
    @Test(arguments: [(130, 100, 400), (384, 128, 1000), (40, 520, 2048)])
    func weightGradientBitIdenticalAcrossThreads(shape: (Int, Int, Int)) throws {
        // On the portable path these products go to OpenBLAS, which keeps one thread (unless
        // OPENBLAS_NUM_THREADS is set), so the bits do not depend on the pool's count either.
        if !BLAS.ownKernelsEnabled && ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] != nil { return }
        try ThreadPool.exclusive {
            let (m, n, k) = shape
            var rng = RNG(seed: 12)
            let a = (0..<(k * m)).map { _ in rng.uniform(-1, 1) }       // (k, m)
            let b = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }       // (k, n)
            let c0 = (0..<(m * n)).map { _ in rng.uniform(-1, 1) }
            func run(_ threads: Int, beta: Float) -> [Float] {
                ThreadPool.setThreads(threads)
                var c = c0
                c.withUnsafeMutableBufferPointer { cp in
                    BLAS.gemm(transA: true, transB: false, m: m, n: n, k: k, a: a, b: b, beta: beta, c: cp.baseAddress!)
                }
                return c
            }
            for beta: Float in [0, 1] {
                let one = run(1, beta: beta)
                #expect(run(2, beta: beta) == one && run(3, beta: beta) == one, "\(shape) beta \(beta)")
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<n {
                        var s = Double(beta) * Double(c0[i * n + j])
                        for p in 0..<k { s += Double(a[p * m + i]) * Double(b[p * n + j]) }
                        worst = max(worst, abs(s - Double(one[i * n + j])))
                    }
                }
                #expect(worst < 3e-4, "\(shape): max error \(worst)")
            }
        }
    }
}
