import Testing
import CCPU
import CKernels
import SwCompress
import SwConfig
import SwNN
import SwTensor

/// The CSR forward: its AVX-512 and portable paths give the same bits; both are within a
/// float summation bound of a Double reference and of the dense GEMM; a model with
/// `SparseDense` layers keeps its parameter names and computes the dense model's outputs.
///
/// Tolerance: the CSR sums the `n` stored products of a row in column order, the dense GEMM
/// sums all `in` products in its own blocked order, so the two differ by rounding only:
/// |y - y_exact| <= (n + 1) · eps · (Σ|w x| + |b|) with eps = 2^-24 (standard summation bound).
@Suite struct PruneSparseKernelTests {
    static func sparseWeight(out: Int, in inputs: Int, sparsity: Double, seed: UInt64) -> [Float] {
        var rng = RNG(seed: seed)
        let t = Tensor(zeros: [out, inputs])
        rng.fillUniform(t, -1, 1)
        let u = Tensor(zeros: [out, inputs])
        rng.fillUniform(u, 0, 1)
        return (0..<t.count).map { u.pointer[$0] < Float(sparsity) ? 0 : t.pointer[$0] }
    }

    @Test(arguments: [1, 5, 16, 64, 100, 257])
    func vectorAndPortablePathsAgreeBitForBitAndMatchTheReference(batch: Int) {
        let (out, inputs) = (37, 53)
        let w = Self.sparseWeight(out: out, in: inputs, sparsity: 0.9, seed: UInt64(batch))
        let csr = w.withUnsafeBufferPointer { CSRMatrix(weight: $0.baseAddress!, rows: out, columns: inputs) }
        #expect(csr.nonZeros == w.filter { $0 != 0 }.count)
        var rng = RNG(seed: 5)
        let x = Tensor(zeros: [batch, inputs]), bias = Tensor(zeros: [out])
        rng.fillUniform(x, -2, 2)
        rng.fillUniform(bias, -1, 1)
        var scratch: [Float] = []
        var native = [Float](repeating: .nan, count: batch * out), portable = native
        let previous = swt_kernels_set_thread_override(0)
        csr.forward(batch: batch, x: x.pointer, bias: bias.pointer, y: &native, scratch: &scratch)
        _ = swt_kernels_set_thread_override(1)
        #expect(swt_csr_path(Int32(batch)) == Int32(SWT_CSR_PORTABLE))
        csr.forward(batch: batch, x: x.pointer, bias: bias.pointer, y: &portable, scratch: &scratch)
        _ = swt_kernels_set_thread_override(previous)
        #expect(native == portable)
        let eps = Double(Float.ulpOfOne) / 2
        for b in 0..<batch {
            for o in 0..<out {
                var ref = Double(bias.pointer[o]), mag = abs(ref)
                var n = 0
                for j in 0..<inputs where w[o * inputs + j] != 0 {
                    let p = Double(w[o * inputs + j]) * Double(x.pointer[b * inputs + j])
                    ref += p; mag += abs(p); n += 1
                }
                #expect(abs(Double(native[b * out + o]) - ref) <= Double(n + 1) * eps * mag + 1e-30, "(\(b), \(o))")
            }
        }
    }

    @Test func sparseDenseModelMatchesTheDenseModel() throws {
        let text = """
            {"input": [40], "layers": [{"type": "dense", "units": 64}, {"type": "relu"}, {"type": "dense", "units": 10}]}
            """
        let dense = try Model(config: try ConfigValue.parse(text, file: nil))
        dense.initialize(seed: 4)
        let targets = try UnstructuredPruning.targets(dense, paths: [])
        UnstructuredPruning.apply(targets, sparsity: 0.92, scope: .layer)
        let sparse = try Model(config: try ConfigValue.parse(text, file: nil))
        sparse.parameters.values.pointer.update(from: dense.parameters.values.pointer, count: dense.parameters.count)
        try SparseInference.apply(sparse, paths: ["0", "2"])
        #expect(sparse.network.descendants.filter { $0.layer is SparseDense }.map(\.path) == ["0", "2"])
        #expect(sparse.parameters.entries.map(\.name) == dense.parameters.entries.map(\.name))
        #expect(sparse.parameters.values.array == dense.parameters.values.array)
        var rng = RNG(seed: 1)
        for batch in [1, 33, 128] {
            let x = Tensor(zeros: [batch, 40])
            rng.fillUniform(x, -1, 1)
            let a = dense.forward(x, training: false).array, b = sparse.forward(x, training: false).array
            // Two layers of the bound above, each |output| ≲ Σ|w x| ≲ 64 · max|w| · max|x|: 1e-5 absolute is ~80 ulp of that.
            for i in 0..<a.count { #expect(abs(a[i] - b[i]) <= 1e-5 * max(1, abs(a[i])), "batch \(batch) element \(i)") }
        }
    }
}
