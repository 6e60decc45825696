import CBLAS
import SwTensor

/// `swtrain bench gemm --bf16`: the bf16 GEMM with fp32 accumulation (`BF16GEMM`) on every path
/// available here against fp32 of the same product: `BLAS.gemm` (what an fp32 layer runs:
/// swtrain's AVX-512 kernels for dense-layer shapes, else OpenBLAS) and raw `cblas_sgemm`
/// (OpenBLAS). The shapes are the three products of a 1024 x 1024 dense layer (forward `X Wᵀ`,
/// input gradient `dY W`, weight gradient `dYᵀ X`) at each batch, and the char GPT's
/// (`examples/charlm.json`, batch 128 x context 64 = 8192 rows, width 128). Every candidate runs
/// once per round, each round starting one candidate later; medians per candidate. One row per
/// bf16 path (its name is in the case); the peer is `BLAS.gemm` fp32; GFLOP/s counts 2 m n k.
extension GEMMBench {
    /// One product: `label`, C[m, n] = op(A) op(B) with op(A) m x k, op(B) k x n.
    public struct Product: Sendable {
        public let label: String
        public let transA: Bool, transB: Bool
        public let m: Int, n: Int, k: Int
    }

    /// A `width`-wide dense layer's three products at `batch` rows.
    public static func denseProducts(width w: Int, batch b: Int) -> [Product] {
        [Product(label: "fwd-b\(b)-\(w)x\(w)", transA: false, transB: true, m: b, n: w, k: w),
         Product(label: "dgrad-b\(b)-\(w)x\(w)", transA: false, transB: false, m: b, n: w, k: w),
         Product(label: "wgrad-b\(b)-\(w)x\(w)", transA: true, transB: false, m: w, n: w, k: b)]
    }

    /// The char GPT's layer products (8192 rows; qkv 128 -> 384, MLP 128 -> 512 -> 128).
    public static let charlmProducts: [Product] = [
        Product(label: "charlm-qkv-fwd", transA: false, transB: true, m: 8192, n: 384, k: 128),
        Product(label: "charlm-qkv-dgrad", transA: false, transB: false, m: 8192, n: 128, k: 384),
        Product(label: "charlm-qkv-wgrad", transA: true, transB: false, m: 384, n: 128, k: 8192),
        Product(label: "charlm-mlp1-fwd", transA: false, transB: true, m: 8192, n: 512, k: 128),
        Product(label: "charlm-mlp2-fwd", transA: false, transB: true, m: 8192, n: 128, k: 512),
        Product(label: "charlm-mlp2-wgrad", transA: true, transB: false, m: 128, n: 512, k: 8192),
    ]

    /// Every product of `batches` (1024-wide layer) and the char GPT, on `threads` pool and BLAS threads.
    public static func runBF16(batches: [Int] = [32, 256], threads: Int = 1, repeats: Int = 0,
                               charlm: Bool = true) -> [BenchRow] {
        BLAS.setThreads(threads)
        ThreadPool.setThreads(threads)
        let products = batches.flatMap { denseProducts(width: 1024, batch: $0) } + (charlm ? charlmProducts : [])
        return products.flatMap { p in
            let ops = 2 * Double(p.m) * Double(p.n) * Double(p.k)
            return bf16Case(p, repeats: repeats > 0 ? repeats : max(15, min(300, Int(4e9 / ops))))
        }
    }

    static func bf16Case(_ p: Product, repeats: Int) -> [BenchRow] {
        var rng = RNG(seed: 23)
        let a = Tensor(zeros: [p.m * p.k]), b = Tensor(zeros: [p.k * p.n]), c = Tensor(zeros: [p.m * p.n])
        rng.fillUniform(a, -1, 1)
        rng.fillUniform(b, -1, 1)
        let lda = p.transA ? p.m : p.k, ldb = p.transB ? p.k : p.n
        var bench = RoundRobin()
        for path in BF16GEMM.availablePaths {
            // The portable loop is slow: fewer rounds (still interleaved with the others).
            bench.add("bf16-\(path.name)", rounds: path == .portable ? min(repeats, 3) : repeats) {
                BF16GEMM.gemm(transA: p.transA, transB: p.transB, m: p.m, n: p.n, k: p.k, a: a.pointer, lda: lda,
                              b: b.pointer, ldb: ldb, c: c.pointer, path: path)
            }
        }
        bench.add("fp32-blas", rounds: repeats) {
            BLAS.gemm(transA: p.transA, transB: p.transB, m: p.m, n: p.n, k: p.k, a: a.pointer, lda: lda,
                      b: b.pointer, ldb: ldb, c: c.pointer)
        }
        bench.add("openblas", rounds: repeats) {
            cblas_sgemm(CblasRowMajor, p.transA ? CblasTrans : CblasNoTrans, p.transB ? CblasTrans : CblasNoTrans,
                        Int32(p.m), Int32(p.n), Int32(p.k), 1, a.pointer, Int32(lda), b.pointer, Int32(ldb), 0,
                        c.pointer, Int32(p.n))
        }
        let ms = bench.medians(rounds: repeats)
        let ops = 2 * Double(p.m) * Double(p.n) * Double(p.k)
        let blas = ms["fp32-blas"]!, openblas = ms["openblas"]!
        return bench.candidates.filter { $0.name.hasPrefix("bf16") }.map { cand in
            let t = ms[cand.name]!
            return BenchRow(bench: "gemm-bf16", caseName: "\(cand.name)-\(p.label)", medianMs: t, peer: "fp32-blas",
                            peerMedianMs: blas,
                            extra: [("gflops", ops / t / 1e6), ("fp32_blas_gflops", ops / blas / 1e6),
                                    ("openblas_ms", openblas), ("openblas_gflops", ops / openblas / 1e6),
                                    ("vs_openblas", openblas / t), ("fp32_own_kernels", BLAS.ownKernelsEnabled ? 1 : 0),
                                    ("threads", Double(ThreadPool.threads))])
        }
    }
}
