import CKernels
import Testing
import SwTensor

/// The AMX int8 kernel's own code (CKernels/int8_amx_body.h) run on the C model of the tile unit
/// (int8_amx_model.c), so it is checked on CPUs without AMX: bit for bit against the portable
/// loop on the shapes of `Int8GEMMTests` (odd m, n, k; k not a multiple of 64; m = 1; more than
/// 32 rows, so both the in-place and the padded-copy reads of A run) and on column ranges that
/// start on later panels, with no rule of the tile unit broken (LDTILECFG limits, distinct and
/// matching TDPBUSD tiles, no tile load or store outside A, the packed W or the kernel's own
/// buffers, TILERELEASE before returning) and C's padding and other columns untouched.
@Suite struct Int8AMXModelTests {
    typealias Problem = Int8GEMMTests.Problem

    /// C from the kernel on the tile model over `columns`, starting from `start`, and the fault.
    static func onModel(_ p: Problem, _ w: PackedInt8Weight, columns: Range<Int>, start: [Int32]) -> ([Int32], String) {
        var c = start
        var rc: Int32 = 0
        p.a.withUnsafeBufferPointer { ap in
            c.withUnsafeMutableBufferPointer { cp in
                rc = swt_qgemm_cols_amx_model(Int32(p.m), Int32(p.n), Int32(columns.lowerBound), Int32(columns.upperBound),
                                              Int32(p.k), ap.baseAddress!, p.lda,
                                              w.packed.baseAddress!.assumingMemoryBound(to: Int8.self), cp.baseAddress!, p.ldc)
            }
        }
        let fault = String(cString: swt_qgemm_amx_model_fault())
        return (c, rc == 0 ? "" : fault)
    }

    @Test func kernelOnTheTileModelMatchesPortable() throws {
        var rng = RNG(seed: 21)
        var shapes = Int8GEMMTests.shapes()
        shapes += [(64, 32, 64), (65, 48, 192), (32, 16, 128), (100, 40, 256), (33, 1, 64)]
        for (m, n, k) in shapes {
            let p = Problem(m: m, n: n, k: k, rng: &rng)
            let w = try PackedInt8Weight(n: n, k: k, weights: p.w)
            let (ref, _) = p.run(w, path: .portable)
            let (c, fault) = Self.onModel(p, w, columns: 0..<n, start: [Int32](repeating: Problem.pad, count: m * p.ldc))
            #expect(fault == "", "m \(m) n \(n) k \(k): \(fault)")
            #expect(c == ref, "AMX kernel on the tile model vs portable at m \(m) n \(n) k \(k)")
        }
    }

    /// Ranges from a later panel (each thread's share) write exactly those columns.
    @Test func columnRangesOnTheTileModel() throws {
        var rng = RNG(seed: 22)
        for (m, n, k, lo, hi) in [(5, 100, 70, 16, 100), (40, 100, 128, 32, 80), (3, 50, 9, 48, 50), (34, 64, 64, 16, 33)] {
            let p = Problem(m: m, n: n, k: k, rng: &rng)
            let w = try PackedInt8Weight(n: n, k: k, weights: p.w)
            let (ref, _) = p.run(w, path: .portable)
            var start = ref
            for i in 0..<m { for j in lo..<hi { start[i * p.ldc + j] = -7 } }
            let (c, fault) = Self.onModel(p, w, columns: lo..<hi, start: start)
            #expect(fault == "", "columns \(lo)..<\(hi): \(fault)")
            #expect(c == ref, "columns \(lo)..<\(hi), m \(m) n \(n) k \(k)")
        }
    }

    /// The largest sums: 255 x -128 over k = 4096 on every int32 of the tiles.
    @Test func extremesOnTheTileModel() throws {
        var rng = RNG(seed: 23)
        let p = Problem(m: 33, n: 17, k: 4096, rng: &rng, a: 255, w: -128)
        let w = try PackedInt8Weight(n: 17, k: 4096, weights: p.w)
        let (c, fault) = Self.onModel(p, w, columns: 0..<17, start: [Int32](repeating: Problem.pad, count: p.m * p.ldc))
        #expect(fault == "")
        #expect(p.values(c) == [Int64](repeating: 255 * -128 * 4096, count: 33 * 17))
    }

    /// The model does catch a broken rule: a column range that does not start on a panel.
    @Test func theModelReportsFaults() throws {
        var rng = RNG(seed: 24)
        let p = Problem(m: 2, n: 20, k: 8, rng: &rng)
        let w = try PackedInt8Weight(n: 20, k: 8, weights: p.w)
        let (_, fault) = Self.onModel(p, w, columns: 3..<20, start: [Int32](repeating: 0, count: p.m * p.ldc))
        #expect(fault.contains("multiple of 16"), "got \(fault)")
    }
}
