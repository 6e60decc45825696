import SwTensor

/// The gradient of one update as the C kernels take it: `count` pointers, each already
/// offset to the first element of the range, summed left to right; with `zero` each source
/// element is set to 0 right after it is read. Valid only inside the closure that made it;
/// made by the `Optimizer` entry points and handed to `apply`.
public struct GradientSources {
    let pointers: UnsafePointer<UnsafeMutablePointer<Float>?>
    let count: Int
    let zero: Bool

    /// `zero` as the C kernels' flag.
    var zeroFlag: Int32 { zero ? 1 : 0 }
}

/// Calls `body` with `source.pointer + offset` as the only gradient source, not zeroed.
@inline(__always)
func withGradientSources<R>(_ source: Tensor, offset: Int, _ body: (GradientSources) -> R) -> R {
    let start: UnsafeMutablePointer<Float>? = source.pointer + offset
    return withUnsafePointer(to: start) { body(GradientSources(pointers: $0, count: 1, zero: false)) }
}

/// Calls `body` with `sources[k].pointer + offset` in a temporary (stack) array: no heap
/// allocation per call, in release or debug builds.
@inline(__always)
func withGradientSources<R>(_ sources: [Tensor], offset: Int, zero: Bool,
                            _ body: (GradientSources) -> R) -> R {
    withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: sources.count) { buffer in
        var k = 0                                       // a plain loop: no iterator boxes at -Onone
        while k < sources.count {
            buffer.initializeElement(at: k, to: sources[k].pointer + offset)
            k += 1
        }
        return body(GradientSources(pointers: UnsafePointer(buffer.baseAddress!), count: sources.count, zero: zero))
    }
}

/// Checks that there is at least one source and that each has `count` elements (a
/// programmer error otherwise; `caller` names the call in the message).
@inline(__always)
func checkSources(_ sources: [Tensor], count: Int, caller: @autoclosure () -> String) {
    precondition(!sources.isEmpty, "\(caller()): no gradient sources")
    var k = 0                                           // a plain loop: no iterator boxes at -Onone
    while k < sources.count {
        let n = sources[k].count
        precondition(n == count, "\(caller()): expected \(count) elements, source \(k) has \(n)")
        k += 1
    }
}

/// Elements per pool task of the optimizer kernels: fixed (a multiple of 16), and every
/// element's update is computed alone, so the result is the same at any thread count.
let optimizerChunk = 64 * 1024

/// Runs `body(offset, count, sources)` over `0..<n` in `optimizerChunk` pieces on the
/// `ThreadPool`, each with `g`'s pointers moved to its offset (one call when `n` fits a chunk).
@inline(__always)
func forOptimizerChunks(_ n: Int, _ g: GradientSources,
                        _ body: (_ offset: Int, _ count: Int, _ sources: UnsafePointer<UnsafeMutablePointer<Float>?>) -> Void) {
    if n <= optimizerChunk || ThreadPool.threads <= 1 {
        body(0, n, g.pointers)
        return
    }
    let pointers = g.pointers, sources = g.count
    ThreadPool.run((n + optimizerChunk - 1) / optimizerChunk) { t in
        let offset = t * optimizerChunk
        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: max(1, sources)) { buffer in
            var k = 0
            while k < sources {
                buffer.initializeElement(at: k, to: pointers[k].map { $0 + offset })
                k += 1
            }
            body(offset, min(optimizerChunk, n - offset), UnsafePointer(buffer.baseAddress!))
        }
    }
}
