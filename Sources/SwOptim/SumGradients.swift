import CKernels
import SwTensor

/// Sums gradient sources into one buffer over `range`, for when clipping or regularization
/// must see the summed gradient before the optimizer step:
/// ```
/// destination[i] = sources[0][i] + sources[1][i] + ...     (Float32, left to right)
/// ```
/// `destination` may be one of the sources (the same tensor or a tensor with the same
/// pointer); it is read before it is written. With `zeroOthers`, every source that is not the
/// destination is set to 0 over `range` right after it is read. All tensors have the same
/// count; only `range` of each is read or written. `sources` must not be empty, and apart
/// from the destination-is-a-source case no two buffers may overlap.
public func sumGradients(_ sources: [Tensor], into destination: Tensor, range: Range<Int>, zeroOthers: Bool) {
    let n = destination.count
    checkSources(sources, count: n, caller: "sumGradients")
    precondition(range.lowerBound >= 0 && range.upperBound <= n, "sumGradients: range \(range) outside 0..<\(n)")
    let lo = range.lowerBound
    withGradientSources(sources, offset: lo, zero: zeroOthers) { g in
        swt_sum_gradients(destination.pointer + lo, g.pointers, g.count, g.zeroFlag, range.count)
    }
}
