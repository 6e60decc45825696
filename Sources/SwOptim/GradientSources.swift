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
