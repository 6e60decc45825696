import Foundation

/// The 1-D signal operations of the MNIST-1D generator, on raw Double buffers so the
/// generator's per-sample loop allocates nothing. Each mirrors the numpy/scipy call named
/// in its comment.
enum Signal1D {
    /// Linear interpolation of `n` samples on `linspace(0, 1, n)` to `m` samples on
    /// `linspace(0, 1, m)` (scipy `interp1d(kind: "linear")`). `src` and `dst` must not overlap.
    /// Where both neighbours are exactly 0 (or the point falls on a zero node) the result is
    /// exactly 0, which the generator's noise mask relies on.
    @inline(__always)
    static func interpolate(_ src: UnsafePointer<Double>, _ n: Int, into dst: UnsafeMutablePointer<Double>, _ m: Int) {
        precondition(n >= 2 && m >= 2)
        let step = Double(n - 1) / Double(m - 1)
        for j in 0..<m {
            let p = Double(j) * step
            let i = min(Int(p), n - 2)
            let t = p - Double(i)
            let lo = src[i], hi = src[i + 1]
            dst[j] = lo + t * (hi - lo)
        }
    }

    /// Circular shift right by `k` (numpy `concatenate([x[-k:], x[:-k]])`, identity for
    /// k = 0): `dst[i] = src[(i - k) mod n]`.
    @inline(__always)
    static func roll(_ src: UnsafePointer<Double>, _ n: Int, by k: Int, into dst: UnsafeMutablePointer<Double>) {
        for i in 0..<n {
            var s = i - k
            if s < 0 { s += n }
            dst[i] = src[s]
        }
    }

    /// Normalised Gaussian weights for `sigma`, radius `Int(truncate * sigma + 0.5)` (scipy's
    /// `gaussian_filter` default truncate is 4).
    static func gaussianKernel(sigma: Double, truncate: Double = 4) -> [Double] {
        let radius = Int(truncate * sigma + 0.5)
        var w = (-radius...radius).map { k in exp(-0.5 * Double(k * k) / (sigma * sigma)) }
        let sum = w.reduce(0, +)
        for i in w.indices { w[i] /= sum }
        return w
    }

    /// Correlation with a symmetric `kernel` (length 2r+1) under scipy's default boundary
    /// mode "reflect" (d c b a | a b c d | d c b a). Requires n > r.
    @inline(__always)
    static func gaussianFilter(_ src: UnsafePointer<Double>, _ n: Int, kernel: UnsafeBufferPointer<Double>,
                               into dst: UnsafeMutablePointer<Double>) {
        let r = kernel.count / 2
        precondition(n > r)
        for i in 0..<n {
            var acc = 0.0
            for k in -r...r {
                var s = i + k
                if s < 0 { s = -s - 1 } else if s >= n { s = 2 * n - s - 1 }
                acc += kernel[k + r] * src[s]
            }
            dst[i] = acc
        }
    }
}
