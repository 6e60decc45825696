import CKernels
import Testing
import SwTensor

/// The update rules restated one element at a time in Swift Float32 (the loops SwOptim had
/// before the C kernels): the scalar kernels must match them bit for bit.
enum FloatRules {
    static func sgd(_ p: inout [Float], _ b: inout [Float]?, _ g0: [Float], _ hp: swt_sgd_params) {
        for i in p.indices {
            var g = g0[i]
            if hp.weight_decay != 0 { g = p[i] * hp.weight_decay + g }
            if b != nil {
                let bv = hp.first_step != 0 ? g : b![i] * hp.momentum + g * hp.keep
                b![i] = bv
                g = hp.nesterov != 0 ? bv * hp.momentum + g : bv
            }
            p[i] = p[i] - g * hp.lr
        }
    }

    static func adam(_ p: inout [Float], _ m: inout [Float], _ v: inout [Float], _ g0: [Float],
                     _ hp: swt_adam_params) {
        for i in p.indices {
            var pv = p[i], g = g0[i]
            if hp.l2 != 0 { g = pv * hp.l2 + g }
            m[i] = (g - m[i]) * hp.w1 + m[i]
            v[i] = v[i] * hp.beta2 + g * g * hp.w2
            let denom = v[i].squareRoot() / hp.bc2_sqrt + hp.eps
            if hp.decay != 1 { pv = pv * hp.decay }
            p[i] = pv - hp.step_size * m[i] / denom
        }
    }
}

/// Which loop a kernel call runs.
enum KernelPath: String, CaseIterable, Sendable { case scalar, avx512 }

/// Buffers for one kernel call: parameters, two state buffers and the gradient sources.
struct KernelCase {
    var p: [Float], s1: [Float], s2: [Float], sources: [[Float]]

    init(n: Int, sourceCount: Int, seed: UInt64) {
        var rng = RNG(seed: seed)
        func normal() -> [Float] { (0..<n).map { _ in rng.normal() } }
        p = normal()
        s1 = normal()
        s2 = normal().map { $0 * $0 }                    // a second moment is >= 0
        sources = (0..<sourceCount).map { _ in normal() }
        sources[0][0] = -0.0
        p[n / 2] = 0
    }

    /// Calls `body` with pointers to copies of the buffers, then returns the copies.
    func run(_ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                      UnsafePointer<UnsafeMutablePointer<Float>?>, Int) -> Void) -> KernelCase {
        let tensors = [p, s1, s2].map { Tensor(shape: [$0.count], values: $0) }
        let srcs = sources.map { Tensor(shape: [$0.count], values: $0) }
        let pointers: [UnsafeMutablePointer<Float>?] = srcs.map(\.pointer)
        pointers.withUnsafeBufferPointer { body(tensors[0].pointer, tensors[1].pointer, tensors[2].pointer, $0.baseAddress!, srcs.count) }
        var out = self
        (out.p, out.s1, out.s2, out.sources) = (tensors[0].array, tensors[1].array, tensors[2].array, srcs.map(\.array))
        return out
    }

    var allBits: [[UInt32]] { [bits(p), bits(s1), bits(s2)] + sources.map(bits) }
}

/// Every kernel, scalar and AVX-512 loop: the scalar loop equals the Swift restatement and
/// the AVX-512 loop equals the scalar one, bit for bit, on odd lengths (masked tails).
@Suite struct KernelPathTests {
    static let lengths = [1, 15, 17, 1001]
    static let avx512 = swt_kernels_cpu_has_avx512() == 1

    static let sgdParams: [swt_sgd_params] = [
        swt_sgd_params(lr: 0.05, weight_decay: 0, momentum: 0, keep: 1, first_step: 0, nesterov: 0),
        swt_sgd_params(lr: 0.05, weight_decay: 0.01, momentum: 0.9, keep: 1, first_step: 1, nesterov: 1),
        swt_sgd_params(lr: 0.03, weight_decay: 0.01, momentum: 0.9, keep: 1, first_step: 0, nesterov: 1),
        swt_sgd_params(lr: 0.07, weight_decay: 0, momentum: 0.8, keep: 0.75, first_step: 0, nesterov: 0),
    ]

    static let adamParams: [swt_adam_params] = [
        swt_adam_params(step_size: 0.5, bc2_sqrt: 0.0316, w1: 0.1, w2: 0.001, beta2: 0.999, eps: 1e-8, l2: 0.01, decay: 1),
        swt_adam_params(step_size: 0.02, bc2_sqrt: 0.7, w1: 0.2, w2: 0.05, beta2: 0.95, eps: 1e-3, l2: 0, decay: 0.999),
    ]

    static func sgd(_ path: KernelPath, _ c: KernelCase, _ hp: swt_sgd_params, momentum: Bool, zero: Bool) -> KernelCase {
        c.run { p, b, _, src, k in
            let buffer = momentum ? b : nil
            switch path {
            case .scalar: swt_sgd_step_scalar(p, buffer, src, k, zero ? 1 : 0, c.p.count, hp)
            case .avx512: swt_sgd_step_avx512(p, buffer, src, k, zero ? 1 : 0, c.p.count, hp)
            }
        }
    }

    static func adam(_ path: KernelPath, _ c: KernelCase, _ hp: swt_adam_params, zero: Bool) -> KernelCase {
        c.run { p, m, v, src, k in
            switch path {
            case .scalar: swt_adam_step_scalar(p, m, v, src, k, zero ? 1 : 0, c.p.count, hp)
            case .avx512: swt_adam_step_avx512(p, m, v, src, k, zero ? 1 : 0, c.p.count, hp)
            }
        }
    }

    /// Sums into `p`, or into source 1 when `intoSource` (then source 1 is not zeroed).
    static func sum(_ path: KernelPath, _ c: KernelCase, intoSource: Bool, zero: Bool) -> KernelCase {
        c.run { p, _, _, src, k in
            let dst = intoSource ? src[1]! : p
            switch path {
            case .scalar: swt_sum_gradients_scalar(dst, src, k, zero ? 1 : 0, c.p.count)
            case .avx512: swt_sum_gradients_avx512(dst, src, k, zero ? 1 : 0, c.p.count)
            }
        }
    }

    @Test(arguments: lengths, [1, 3])
    func scalarMatchesSwiftRules(n: Int, sourceCount: Int) {
        let c = KernelCase(n: n, sourceCount: sourceCount, seed: UInt64(n * 10 + sourceCount))
        let g = floatSum(c.sources)
        for hp in Self.sgdParams {
            let momentum = hp.momentum != 0
            let got = Self.sgd(.scalar, c, hp, momentum: momentum, zero: true)
            var p = c.p, b: [Float]? = momentum ? c.s1 : nil
            FloatRules.sgd(&p, &b, g, hp)
            #expect(bits(got.p) == bits(p) && bits(got.s1) == bits(b ?? c.s1), "sgd \(hp)")
            #expect(got.sources.allSatisfy { bits($0) == Array(repeating: 0, count: n) })
        }
        for hp in Self.adamParams {
            let got = Self.adam(.scalar, c, hp, zero: false)
            var p = c.p, m = c.s1, v = c.s2
            FloatRules.adam(&p, &m, &v, g, hp)
            #expect(bits(got.p) == bits(p) && bits(got.s1) == bits(m) && bits(got.s2) == bits(v), "adam \(hp)")
            #expect(got.sources.map(bits) == c.sources.map(bits), "sources untouched without zeroing")
        }
        let summed = Self.sum(.scalar, c, intoSource: false, zero: false)
        #expect(bits(summed.p) == bits(g))
    }

    @Test(.enabled(if: avx512, "this CPU lacks AVX-512F: only the scalar loops are tested"),
          arguments: lengths, [1, 2, 3])
    func avx512MatchesScalar(n: Int, sourceCount: Int) {
        let c = KernelCase(n: n, sourceCount: sourceCount, seed: 1000 + UInt64(n * 10 + sourceCount))
        for zero in [false, true] {
            for hp in Self.sgdParams {
                for momentum in [false, true] {
                    let s = Self.sgd(.scalar, c, hp, momentum: momentum, zero: zero)
                    let v = Self.sgd(.avx512, c, hp, momentum: momentum, zero: zero)
                    #expect(v.allBits == s.allBits, "sgd \(hp) momentum \(momentum) zero \(zero)")
                }
            }
            for hp in Self.adamParams {
                let s = Self.adam(.scalar, c, hp, zero: zero), v = Self.adam(.avx512, c, hp, zero: zero)
                #expect(v.allBits == s.allBits, "adam \(hp) zero \(zero)")
            }
            for intoSource in [false, true] where sourceCount > 1 || !intoSource {
                let s = Self.sum(.scalar, c, intoSource: intoSource, zero: zero)
                let v = Self.sum(.avx512, c, intoSource: intoSource, zero: zero)
                #expect(v.allBits == s.allBits, "sum into source \(intoSource) zero \(zero)")
            }
        }
    }

    /// Forcing the portable path switches the dispatching kernels off AVX-512 and back, on
    /// this thread only; outside the override the environment decides (`SWTRAIN_KERNELS`).
    @Test func portableOverrideSwitchesDispatch() {
        let fromEnvironment = CPU.kernelPathFromEnvironment == .portable ? 0 : (Self.avx512 ? 1 : 0)
        #expect(swt_kernels_using_avx512() == fromEnvironment)
        CPU.withKernelPath(.portable) {
            #expect(swt_kernels_using_avx512() == 0)
            CPU.withKernelPath(.native) { #expect(swt_kernels_using_avx512() == (Self.avx512 ? 1 : 0)) }
            #expect(swt_kernels_using_avx512() == 0)
        }
        #expect(swt_kernels_using_avx512() == fromEnvironment)
    }

    /// The dispatching kernels give the same bits on both paths (the scalar loops run under
    /// the portable override, the AVX-512 loops under the native one).
    @Test(arguments: [17, 1001])
    func dispatchingKernelsMatchAcrossPaths(n: Int) {
        let c = KernelCase(n: n, sourceCount: 2, seed: 77 + UInt64(n))
        func run(_ path: CPU.KernelPath) -> [[UInt32]] {
            CPU.withKernelPath(path) {
                let sgd = c.run { p, b, _, src, k in swt_sgd_step(p, b, src, k, 1, n, Self.sgdParams[2]) }
                let adam = c.run { p, m, v, src, k in swt_adam_step(p, m, v, src, k, 0, n, Self.adamParams[1]) }
                let sum = c.run { p, _, _, src, k in swt_sum_gradients(p, src, k, 1, n) }
                return sgd.allBits + adam.allBits + sum.allBits
            }
        }
        #expect(run(.portable) == run(.native))
    }
}
