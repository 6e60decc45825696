import SwTensor

/// A dense layer's two bias passes over the pool: the bias copied into every output row
/// (before the forward GEMM adds `x Wᵀ`; only where the GEMM kernels do not take the bias
/// themselves, `BLAS.gemmAddingBias`) and the bias gradient, the column sums of the output
/// gradient. On one thread both took about 2% of a char GPT step while the second thread
/// waited. The sums split the columns, not the rows: each column still adds its rows one by
/// one from the first, so the bits are those of the plain loop at any thread count.
/// When the weight gradient runs on `swt_sgemm_tn_blocked` (a transformer's B·T rows), `Dense`
/// takes the same sums from that kernel instead, added while it packs dY, the same bits
/// (`BLAS.gemmTNAccumulatingColumnSums`): one read of dY fewer, 3% of a char GPT step.
enum DenseBias {
    private enum K {   // SIMD16 loads and stores
        @inline(__always)
        static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
        @inline(__always)
        static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
        }
    }

    /// Rows per task of the copy.
    static let rowBlock = 256
    /// Columns per task of the sums (a multiple of 16: whole vectors).
    static let columnBlock = 64
    /// Below this many elements one thread does the pass.
    static let minParallel = 1 << 16

    /// `y[r, j] = bias[j]` for every row `r`.
    static func broadcast(_ bias: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        let body = { (r: Range<Int>) in
            for row in r { (y + row * columns).update(from: bias, count: columns) }
        }
        if rows * columns < minParallel { body(0..<rows) } else { ThreadPool.forBlocks(count: rows, block: rowBlock, body) }
    }

    /// `db[j] += Σ_r dy[r, j]`, the rows added in order. Four vectors of columns at a time
    /// in registers (each lane one column's running sum, started from `db`), the rest in
    /// one vector or one column at a time: the same additions in the same order everywhere.
    static func accumulateColumnSums(_ dy: UnsafePointer<Float>, rows: Int, columns: Int, into db: UnsafeMutablePointer<Float>) {
        let body = { (c: Range<Int>) in
            var j = c.lowerBound
            while j + 64 <= c.upperBound {
                var a0 = K.load(UnsafePointer(db + j)), a1 = K.load(UnsafePointer(db + j + 16)), a2 = K.load(UnsafePointer(db + j + 32)), a3 = K.load(UnsafePointer(db + j + 48))
                for r in 0..<rows {
                    let row = dy + r * columns + j
                    a0 += K.load(row); a1 += K.load(row + 16); a2 += K.load(row + 32); a3 += K.load(row + 48)
                }
                K.store(a0, db + j); K.store(a1, db + j + 16); K.store(a2, db + j + 32); K.store(a3, db + j + 48)
                j += 64
            }
            while j + 16 <= c.upperBound {
                var a = K.load(UnsafePointer(db + j))
                for r in 0..<rows { a += K.load(dy + r * columns + j) }
                K.store(a, db + j)
                j += 16
            }
            for jj in j..<c.upperBound {
                var a = db[jj]
                for r in 0..<rows { a += dy[r * columns + jj] }
                db[jj] = a
            }
        }
        if rows * columns < minParallel { body(0..<columns) } else { ThreadPool.forBlocks(count: columns, block: columnBlock, body) }
    }
}
