import CKernels
import SwTensor

/// The int8 product of a quantized layer: `Y (m, n) = dequant(quant(X) (m, k) · Wqᵀ) + b` for an
/// int8 weight `Wq [n, k]` with scales, on the CKernels int8 GEMM (exact int32 accumulation).
///
/// Built from the layer's integer-valued Float weight (packed once with `swt_qgemm_pack`);
/// per-tensor weight scales are expanded to one per output. Activations are quantized per row
/// (`dynamic`) or with one calibrated `(scale, zero point)` (`static`). Scratch buffers grow to
/// the largest batch seen and are reused (no allocation in the steady state).
final class Int8Matmul {
    let n: Int, k: Int
    private let packed: UnsafeMutablePointer<Int8>
    private let colsum: UnsafeMutablePointer<Int32>
    private let wScale: UnsafeMutablePointer<Float>
    private var qa: UnsafeMutablePointer<UInt8>?, acc: UnsafeMutablePointer<Int32>?
    private var rowScale: UnsafeMutablePointer<Float>?, rowZero: UnsafeMutablePointer<Int32>?
    private var rows = 0

    /// `weight` holds `n * k` integer values in `-127...127`; `scales` 1 or `n` entries.
    init(n: Int, k: Int, weight: UnsafePointer<Float>, scales: UnsafePointer<Float>, scaleCount: Int) {
        precondition(scaleCount == 1 || scaleCount == n, "int8 weight scales: \(scaleCount) for \(n) outputs")
        precondition(k <= 65_793, "int8 GEMM: k = \(k) exceeds the exact int32 range (65793)")
        self.n = n; self.k = k
        let q = [Int8](unsafeUninitializedCapacity: n * k) { b, c in
            for i in 0..<n * k { b[i] = Int8(min(127, max(-127, weight[i]))) }
            c = n * k
        }
        let p = UnsafeMutablePointer<Int8>.allocate(capacity: max(1, swt_qgemm_packed_bytes(Int32(n), Int32(k))))
        let cs = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        q.withUnsafeBufferPointer { swt_qgemm_pack(Int32(n), Int32(k), $0.baseAddress, p, cs) }
        let ws = UnsafeMutablePointer<Float>.allocate(capacity: n)
        for j in 0..<n { ws[j] = scales[scaleCount == 1 ? 0 : j] }
        packed = p; colsum = cs; wScale = ws
    }

    deinit {
        packed.deallocate(); colsum.deallocate(); wScale.deallocate()
        qa?.deallocate(); acc?.deallocate(); rowScale?.deallocate(); rowZero?.deallocate()
    }

    private func reserve(_ m: Int) {
        guard m > rows else { return }
        qa?.deallocate(); acc?.deallocate(); rowScale?.deallocate(); rowZero?.deallocate()
        qa = .allocate(capacity: m * k); acc = .allocate(capacity: m * n)
        rowScale = .allocate(capacity: m); rowZero = .allocate(capacity: m)
        rows = m
    }

    /// What `run` writes: float `y (m, n)` (row stride `n`), or the uint8 input of a next layer
    /// with static input quantization, `q (m, n)` quantized with its `(scale, zeroPoint)`.
    enum Output {
        case float(UnsafeMutablePointer<Float>)
        case quantized(UnsafeMutablePointer<UInt8>, scale: Float, zeroPoint: Int32)
    }

    /// The product of `x (m, k)` (row stride `k`) written as `output`, with `relu` applied in the
    /// output stage (`swt_qgemm_u8s8_out`, bit for bit the same as a `relu` layer after it).
    /// `input` nil: dynamic per row; else the static `(scale, zeroPoint)`, and then `quantized`
    /// (when given) holds `x` already quantized with them, so `x` is not read.
    func run(m: Int, x: UnsafePointer<Float>, quantized: UnsafePointer<UInt8>? = nil, bias: UnsafePointer<Float>?,
             input: (scale: Float, zeroPoint: Int32)?, relu: Bool = false, output: Output) {
        guard m > 0 else { return }
        reserve(m)
        let (qa, acc, rs, rz) = (qa!, acc!, rowScale!, rowZero!)
        var a = UnsafePointer(qa)
        if let input {
            if let quantized { a = quantized } else { swt_quantize_u8(m * k, x, 1 / input.scale, input.zeroPoint, qa) }
            rs[0] = input.scale; rz[0] = input.zeroPoint
        } else {
            swt_quantize_rows_u8(Int32(m), Int32(k), x, k, qa, k, rs, rz)
        }
        var o = swt_qgemm_out(a_scale: rs, a_zero: rz, a_per_row: input == nil ? 1 : 0, w_scale: wScale, colsum: colsum,
                              bias: bias, relu: relu ? 1 : 0, y: nil, ldy: n, q: nil, ldq: n, q_inv_scale: 1, q_zero: 0)
        switch output {
        case .float(let y): o.y = y
        case .quantized(let q, let scale, let zeroPoint): o.q = q; o.q_inv_scale = 1 / scale; o.q_zero = zeroPoint
        }
        swt_qgemm_u8s8_out(Int32(m), Int32(n), Int32(k), a, k, packed, acc, n, &o)
    }

    /// `run` with float output `y (m, n)` and no relu.
    func run(m: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?,
             input: (scale: Float, zeroPoint: Int32)?) {
        run(m: m, x: x, bias: bias, input: input, output: .float(y))
    }
}
