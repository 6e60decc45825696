import Testing
import SwTensor
import Foundation

@Suite struct GEMMTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemmMatchesDoubleReference(ta: Bool, tb: Bool) {
        let m = 7, n = 5, k = 9
        var rng = RNG(seed: 11)
        let a = Tensor(zeros: ta ? [k, m] : [m, k]), b = Tensor(zeros: tb ? [n, k] : [k, n])
        rng.fillUniform(a, -1, 1); rng.fillUniform(b, -1, 1)
        let c = Tensor(repeating: 0.5, shape: [m, n])
        BLAS.gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 2, a: a.pointer, b: b.pointer, beta: 3, c: c.pointer)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = Double(ta ? a[p, i] : a[i, p]), bv = Double(tb ? b[j, p] : b[p, j])
                    s += av * bv
                }
                #expect(abs(Double(c[i, j]) - (2 * s + 1.5)) < 1e-4)
            }
        }
    }

    @Test func avx512KernelChosenWhenAvailable() {
        if let chosen = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] {
            // The user's choice is kept (this is how a machine can pin OpenBLAS's kernels).
            #expect(BLAS.coreName.lowercased() == chosen.lowercased(), "core \(BLAS.coreName), OPENBLAS_CORETYPE=\(chosen)")
        } else if CPU.has(.avx512Core) {
            #expect(["SkylakeX", "Cooperlake", "SapphireRapids"].contains(BLAS.coreName), "core \(BLAS.coreName)")
        }
    }
}
