import CBLAS
import SwTensor

/// `swtrain bench gemm --int8`: the int8 GEMM C = A Wᵀ (uint8 activations, packed int8 weight,
/// int32 sums) on every path available here (AMX, VNNI, portable) against fp32 sgemm of the same
/// shape: swtrain's own AVX-512 kernel called directly (`SGEMMDirect`), `BLAS.gemm` (what the
/// fp32 dense layer uses) and raw `cblas_sgemm` (OpenBLAS). Plus `int8-dynamic`: per-row
/// quantization of a float A, the GEMM on the default path and the dequantization to float,
/// i.e. a whole dynamic-int8 dense forward. Every candidate runs once per round, round after
/// round (rotating who goes first), so all see the same machine noise; medians per candidate. Rows: one per int8
/// candidate, the peer is the faster fp32 of own kernel and OpenBLAS; GOP/s counts 2 m n k.
extension GEMMBench {
    /// The shapes (k inputs -> n outputs) of an MLP 40 -> 1024 -> 1024 -> 10.
    public static let int8Shapes: [(k: Int, n: Int)] = [(1024, 1024), (40, 1024), (1024, 10)]

    /// Runs every shape at every batch.
    public static func runInt8(batches: [Int] = [1, 32, 256], threads: Int = 1, repeats: Int = 0) -> [BenchRow] {
        BLAS.setThreads(threads)
        var rows: [BenchRow] = []
        for (k, n) in int8Shapes {
            for m in batches {
                let ops = 2 * Double(m) * Double(n) * Double(k)
                let r = repeats > 0 ? repeats : max(15, min(400, Int(4e9 / ops)))
                rows += int8Case(m: m, n: n, k: k, repeats: r)
            }
        }
        return rows
    }

    static func int8Case(m: Int, n: Int, k: Int, repeats: Int) -> [BenchRow] {
        var rng = RNG(seed: 21)
        let x = Tensor(zeros: [m, k]), w = Tensor(zeros: [n, k]), y = Tensor(zeros: [m, n])
        rng.fillUniform(x, -1, 1)
        rng.fillUniform(w, -1, 1)
        let a = (0..<(m * k)).map { _ in UInt8(truncatingIfNeeded: rng.nextUInt32()) }
        let wq = (0..<(n * k)).map { _ in Int8(truncatingIfNeeded: rng.nextUInt32()) }
        let weight = try! PackedInt8Weight(n: n, k: k, weights: wq)   // shapes are valid by construction
        let wScale = [Float](repeating: 0.01, count: n), bias = [Float](repeating: 0, count: n)
        var c = [Int32](repeating: 0, count: m * n)
        var aq = [UInt8](repeating: 0, count: m * k), aScale = [Float](repeating: 0, count: m)
        var aZero = [Int32](repeating: 0, count: m)
        let (mi, ni, ki) = (Int32(m), Int32(n), Int32(k))

        var bench = RoundRobin()
        for path in Int8GEMM.availablePaths {
            // The portable loop is slow: fewer rounds (still interleaved with the others).
            let rounds = path == .portable ? min(repeats, 5) : repeats
            bench.add("int8-\(path.name)", rounds: rounds) {
                a.withUnsafeBufferPointer { ap in
                    _ = c.withUnsafeMutableBufferPointer { weight.gemm(m: m, a: ap.baseAddress!, lda: k, c: $0.baseAddress!, ldc: n, path: path) }
                }
            }
        }
        bench.add("int8-dynamic", rounds: repeats) {
            aq.withUnsafeMutableBufferPointer { qp in
                aScale.withUnsafeMutableBufferPointer { sp in
                    aZero.withUnsafeMutableBufferPointer { zp in
                        c.withUnsafeMutableBufferPointer { cp in
                            Int8Quantize.quantizeRows(m: m, k: k, x.pointer, ldx: k, into: qp.baseAddress!, ldq: k,
                                                      scale: sp.baseAddress!, zeroPoint: zp.baseAddress!)
                            weight.gemm(m: m, a: qp.baseAddress!, lda: k, c: cp.baseAddress!, ldc: n)
                            Int8Quantize.dequantize(m: m, n: n, cp.baseAddress!, ldc: n, aScale: sp.baseAddress!,
                                                    aZero: zp.baseAddress!, perRow: true, wScale: wScale,
                                                    colsum: weight.colsum, bias: bias, into: y.pointer, ldy: n)
                        }
                    }
                }
            }
        }
        if SGEMMDirect.available {
            bench.add("fp32-own", rounds: repeats) {
                SGEMMDirect.nt(m: m, n: n, k: k, a: x.pointer, lda: k, b: w.pointer, ldb: k, c: y.pointer, ldc: n)
            }
        }
        bench.add("fp32-blas", rounds: repeats) {
            BLAS.gemm(transA: false, transB: true, m: m, n: n, k: k, a: x.pointer, b: w.pointer, c: y.pointer)
        }
        bench.add("openblas", rounds: repeats) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, mi, ni, ki, 1, x.pointer, ki, w.pointer, ki, 0, y.pointer, ni)
        }
        let ops = 2 * Double(m) * Double(n) * Double(k)
        let ms = bench.medians(rounds: repeats)
        let own = ms["fp32-own"], blas = ms["fp32-blas"]!, openblas = ms["openblas"]!
        let fp32 = min(own ?? .infinity, openblas)
        let peerName = (own ?? .infinity) <= openblas ? "fp32-own" : "openblas"
        return bench.candidates.filter { $0.name.hasPrefix("int8") }.map { cand in
            let t = ms[cand.name]!
            var extra: [(String, Double)] = [("gops", ops / t / 1e6), ("fp32_gflops", ops / fp32 / 1e6),
                                             ("fp32_blas_ms", blas), ("openblas_ms", openblas)]
            if let own { extra.append(("fp32_own_ms", own)) }
            extra.append(("vs_fp32_blas", blas / t))
            return BenchRow(bench: "gemm-int8", caseName: "\(cand.name)-b\(m)-\(k)x\(n)", medianMs: t, peer: peerName,
                            peerMedianMs: fp32, extra: extra)
        }
    }
}
