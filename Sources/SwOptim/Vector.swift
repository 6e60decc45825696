/// The SIMD width the Swift loops (clipping, regularization) work in: 16 floats (one AVX-512
/// register, two AVX2).
typealias Vec = SIMD16<Float>

/// Loads the 16 elements at `p + i`; past `n` the lanes are zero, so one loop body serves the
/// whole buffer including its tail.
@inline(__always)
func load(_ p: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int) -> Vec {
    if i + Vec.scalarCount <= n { return UnsafeRawPointer(p + i).loadUnaligned(as: Vec.self) }
    var v = Vec()
    for k in 0..<(n - i) { v[k] = p[i + k] }
    return v
}

/// Stores the lanes of `v` that fall before `n` to `p + i`.
@inline(__always)
func store(_ v: Vec, _ p: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int) {
    if i + Vec.scalarCount <= n {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: Vec.self)
        return
    }
    for k in 0..<(n - i) { p[i + k] = v[k] }
}

// Used by the clipping and regularization passes. The optimizer loops are C kernels
// (CKernels): without a target-cpu flag these Swift loops compile to SSE and `squareRoot()`
// to scalar libm `sqrtf`, while the kernels pick AVX-512 at run time.
