import SwTensor

/// A layer whose input is token ids looked up in a `[vocab, dim]` table (`embedding`,
/// `token_position_embedding` and their int8 forms); the data checks read `vocab` from it.
public protocol TokenEmbedding: Layer {
    /// The number of rows of the token table: ids are integers in `0..<vocab`.
    var vocab: Int { get }
}

/// The row lookup every embedding layer shares: `y[i, :] = tok[x[i], :] · s_tok + pos[i % T, :] · s_pos`,
/// where a table's row scale `s` is 1 for fp32 tables (no scales given), `scales[row]` for an
/// int8 table with one scale per row, and `scales[0]` for one scale per table.
enum EmbeddingLookup {
    /// A table `[rows, dim]` and its optional scales (`rows` of them, or 1).
    struct Table {
        var values: UnsafePointer<Float>
        var scales: UnsafePointer<Float>?
        var scaleCount = 0

        @inline(__always)
        func scale(_ row: Int) -> Float { scaleCount == 1 ? scales![0] : scales![row] }
    }

    /// Rows of `y` per pool task: fixed, so the split does not depend on the thread count (each
    /// output row is written by one task alone, so the bits do not either).
    static let rowBlock = 1024

    /// Fills `y` (`x.count` rows of `dim`) from `tok` at the ids of `x`, plus `pos` at
    /// position `i % period` when given; rows in blocks of `rowBlock` over the pool.
    static func forward(_ x: Tensor, into y: Tensor, dim D: Int, vocab: Int, layer: String,
                        tok: Table, pos: Table? = nil, period: Int = 1) {
        ThreadPool.forBlocks(count: x.count, block: rowBlock) { rows in
            forward(x, rows: rows, into: y, dim: D, vocab: vocab, layer: layer, tok: tok, pos: pos, period: period)
        }
    }

    private static func forward(_ x: Tensor, rows: Range<Int>, into y: Tensor, dim D: Int, vocab: Int, layer: String,
                                tok: Table, pos: Table?, period: Int) {
        for i in rows {
            let r = tokenID(x, i, vocab: vocab, layer: layer)
            let src = tok.values + r * D, dst = y.pointer + i * D
            switch (tok.scales, pos) {
            case (nil, nil):
                for j in 0..<D { dst[j] = src[j] }
            case (nil, let p?):
                let q = p.values + (i % period) * D
                for j in 0..<D { dst[j] = src[j] + q[j] }
            case (_?, nil):
                let s = tok.scale(r)
                for j in 0..<D { dst[j] = src[j] * s }
            case (_?, let p?):
                let t = i % period, q = p.values + t * D
                let s = tok.scale(r), ps = p.scales == nil ? 1 : p.scale(t)
                for j in 0..<D { dst[j] = src[j] * s + q[j] * ps }
            }
        }
    }
}
