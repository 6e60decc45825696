import CLAPACKE
import SwTensor

/// Why a factorization could not be computed.
public struct CompressError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The thin SVD `A = U diag(s) Vᵀ` of a row-major `[m, n]` matrix, by LAPACK's divide and
/// conquer `sgesdd` (through LAPACKE, row-major, `jobz = 'S'`).
///
/// With `k = min(m, n)`: `u` is `[m, k]` row-major (column `i` is the `i`-th left singular
/// vector), `s` holds the `k` singular values in descending order, `vt` is `[k, n]` row-major
/// (row `i` is the `i`-th right singular vector). Single precision throughout.
public struct SVD: Sendable {
    public let rows: Int, cols: Int
    public let u: [Float]
    public let s: [Float]
    public let vt: [Float]
    public var k: Int { s.count }

    /// The SVD of `a` (`rows · cols` values, row-major); `a` is not modified.
    public init(_ a: [Float], rows m: Int, cols n: Int) throws(CompressError) {
        precondition(a.count == m * n && m > 0 && n > 0, "SVD: \(a.count) values do not make a [\(m), \(n)] matrix")
        let k = min(m, n)
        var work = a
        var s = [Float](repeating: 0, count: k)
        var u = [Float](repeating: 0, count: m * k)
        var vt = [Float](repeating: 0, count: k * n)
        // lapack_int is a macro (int32 or int64 by the build); the imported signature fixes it.
        let info = LAPACKE_sgesdd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "S")), .init(m), .init(n), &work, .init(n),
                                  &s, &u, .init(k), &vt, .init(n))
        guard info == 0 else {
            throw CompressError("SVD of a [\(m), \(n)] matrix failed: LAPACKE_sgesdd returned \(info)\n  hint: a negative value names a bad argument, a positive one means no convergence (NaN or Inf in the weights?)")
        }
        self.rows = m; self.cols = n; self.u = u; self.s = s; self.vt = vt
    }
}
