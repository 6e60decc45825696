import CCPU
import Testing
import SwTensor

/// The int8 kernels (`Int8GEMM`, `Int8Quantize`): the portable GEMM against a plain Int64
/// re-computation on the unpacked weight, every available path bit for bit against the portable
/// loop (odd shapes, k not a multiple of 4 or 64, m = 1, n = 1, padded strides with C's padding
/// checked, the 255 x -128 extremes up to the largest k), the column-range entry, and the
/// conversions: AVX-512 against scalar bit for bit including NaN, infinities and huge values,
/// a Swift restatement of the rounding rule, and quantize -> dequantize within half a step.
/// Debug builds run the C at -O0, so shapes stay moderate.
@Suite struct Int8GEMMTests {
    /// One problem with random (or given) contents, strides padded by 0-4.
    struct Problem {
        let m, n, k, lda, ldc: Int
        var a: [UInt8], w: [Int8]
        static let pad: Int32 = 0x5A5A_5A5A   // C's padding columns must keep this value

        init(m: Int, n: Int, k: Int, rng: inout RNG, a fixedA: UInt8? = nil, w fixedW: Int8? = nil) {
            self.m = m; self.n = n; self.k = k
            lda = k + Int(rng.nextUInt32() % 5)
            ldc = n + Int(rng.nextUInt32() % 5)
            a = (0..<(m * lda)).map { _ in fixedA ?? UInt8(truncatingIfNeeded: rng.nextUInt32()) }
            w = (0..<(n * k)).map { _ in fixedW ?? Int8(truncatingIfNeeded: rng.nextUInt32()) }
        }

        /// The exact answer from the unpacked weight, in Int64.
        func reference() -> [Int64] {
            var r = [Int64](repeating: 0, count: m * n)
            for i in 0..<m {
                for j in 0..<n {
                    var s: Int64 = 0
                    for p in 0..<k { s += Int64(a[i * lda + p]) * Int64(w[j * k + p]) }
                    r[i * n + j] = s
                }
            }
            return r
        }

        /// C (with its padding) from `path`, and the path taken.
        func run(_ weight: PackedInt8Weight, path: Int8GEMM.Path) -> ([Int32], Int8GEMM.Path) {
            var c = [Int32](repeating: Self.pad, count: m * ldc)
            var taken = Int8GEMM.Path.portable
            a.withUnsafeBufferPointer { ap in
                c.withUnsafeMutableBufferPointer { cp in
                    taken = weight.gemm(m: m, a: ap.baseAddress!, lda: lda, c: cp.baseAddress!, ldc: ldc, path: path)
                }
            }
            return (c, taken)
        }

        func values(_ c: [Int32]) -> [Int64] {
            (0..<m).flatMap { i in (0..<n).map { Int64(c[i * ldc + $0]) } }
        }

        func paddingIntact(_ c: [Int32]) -> Bool {
            (0..<m).allSatisfy { i in (n..<ldc).allSatisfy { c[i * ldc + $0] == Self.pad } }
        }
    }

    /// Random shapes with every kind of edge, plus fixed ones.
    static func shapes() -> [(Int, Int, Int)] {
        var rng = RNG(seed: 14)
        var s: [(Int, Int, Int)] = [(1, 1, 1), (1, 1, 3), (1, 16, 64), (1, 1024, 40), (2, 10, 1024), (3, 17, 65),
                                    (7, 33, 67), (32, 64, 128), (33, 65, 131), (6, 48, 4), (5, 100, 5),
                                    (49, 150, 70), (97, 33, 130), (60, 1, 9)]
        for _ in 0..<24 {
            s.append((1 + Int(rng.nextUInt32() % 40), 1 + Int(rng.nextUInt32() % 90), 1 + Int(rng.nextUInt32() % 300)))
        }
        return s
    }

    @Test func portableMatchesInt64Reference() throws {
        var rng = RNG(seed: 1)
        for (m, n, k) in Self.shapes() {
            let p = Problem(m: m, n: n, k: k, rng: &rng)
            let weight = try PackedInt8Weight(n: n, k: k, weights: p.w)
            let (c, taken) = p.run(weight, path: .portable)
            #expect(taken == .portable)
            #expect(p.values(c) == p.reference(), "portable int8 gemm m \(m) n \(n) k \(k)")
            #expect(p.paddingIntact(c), "m \(m) n \(n) k \(k): C padding overwritten")
            let sums = (0..<n).map { j in Int32((0..<k).reduce(0) { $0 + Int(p.w[j * k + $1]) }) }
            #expect(weight.colsum == sums, "colsum n \(n) k \(k)")
        }
    }

    @Test func everyPathBitIdenticalToPortable() throws {
        var rng = RNG(seed: 2)
        let paths = Int8GEMM.availablePaths
        #expect(paths.first == .portable)
        for (m, n, k) in Self.shapes() {
            let p = Problem(m: m, n: n, k: k, rng: &rng)
            let weight = try PackedInt8Weight(n: n, k: k, weights: p.w)
            let (ref, _) = p.run(weight, path: .portable)
            for path in paths {
                let (c, taken) = p.run(weight, path: path)
                #expect(taken == path)
                #expect(c == ref, "\(path) vs portable at m \(m) n \(n) k \(k)")
            }
        }
    }

    /// |C| at its largest: all 255 x -128 (and x 127), up to the largest k the contract allows.
    @Test func extremesDoNotOverflow() throws {
        var rng = RNG(seed: 3)
        for (m, n, k, wv) in [(3, 20, 1000, Int8(-128)), (2, 17, 999, Int8(127)), (1, 1, Int8GEMM.maxK, Int8(-128)),
                              (1, 16, Int8GEMM.maxK, Int8(127))] {
            let p = Problem(m: m, n: n, k: k, rng: &rng, a: 255, w: wv)
            let weight = try PackedInt8Weight(n: n, k: k, weights: p.w)
            let expected = [Int64](repeating: 255 * Int64(wv) * Int64(k), count: m * n)
            for path in Int8GEMM.availablePaths {
                let (c, _) = p.run(weight, path: path)
                #expect(p.values(c) == expected, "\(path) extremes m \(m) n \(n) k \(k) w \(wv)")
            }
        }
    }

    @Test func defaultPathAndSwitch() throws {
        CPU.withKernelPath(.portable) {
            #expect(Int8GEMM.path == .portable)
            #expect(Int8GEMM.availablePaths == [.portable])
            #expect(!Int8Quantize.vectorized)
        }
        let amx = CPU.kernelFeatures.isSuperset(of: [.amxTile, .amxInt8])
        if !amx { #expect(!Int8GEMM.Path.amx.isAvailable, "AMX path offered without AMX-TILE + AMX-INT8") }
        if CPU.kernelPath == .native && CPU.has([.avx512f, .avx512bw, .avx512vl, .avx512vnni]) {
            #expect(Int8GEMM.path != .portable)
        }
        // The default entry takes `Int8GEMM.path` and gives the portable integers.
        var rng = RNG(seed: 4)
        let p = Problem(m: 5, n: 37, k: 70, rng: &rng)
        let weight = try PackedInt8Weight(n: 37, k: 70, weights: p.w)
        var c = [Int32](repeating: Problem.pad, count: p.m * p.ldc)
        p.a.withUnsafeBufferPointer { ap in
            c.withUnsafeMutableBufferPointer { weight.gemm(m: p.m, a: ap.baseAddress!, lda: p.lda, c: $0.baseAddress!, ldc: p.ldc) }
        }
        #expect(c == p.run(weight, path: .portable).0)
    }

    @Test func badShapesThrow() {
        #expect(throws: Int8GEMMError.badShape(n: 0, k: 3)) { try PackedInt8Weight(n: 0, k: 3, weights: []) }
        #expect(throws: Int8GEMMError.badShape(n: 1, k: Int8GEMM.maxK + 1)) {
            try PackedInt8Weight(n: 1, k: Int8GEMM.maxK + 1, weights: [Int8](repeating: 0, count: Int8GEMM.maxK + 1))
        }
        #expect(throws: Int8GEMMError.countMismatch(expected: 6, actual: 5)) {
            try PackedInt8Weight(n: 2, k: 3, weights: [1, 2, 3, 4, 5])
        }
    }

    /// Splitting n into parts (and any odd column range) writes exactly the one-call result.
    @Test func columnRangesComposeToTheWhole() throws {
        var rng = RNG(seed: 5)
        for (m, n, k) in [(4, 100, 70), (1, 10, 33), (9, 1024, 20), (3, 16, 5)] {
            let p = Problem(m: m, n: n, k: k, rng: &rng)
            let weight = try PackedInt8Weight(n: n, k: k, weights: p.w)
            let (ref, _) = p.run(weight, path: .portable)
            for parts in 1...5 {
                var c = [Int32](repeating: Problem.pad, count: m * p.ldc)
                var next = 0
                for index in 0..<parts {
                    let r = Int8GEMM.columnRange(n: n, parts: parts, index: index)
                    #expect(r.lowerBound == next, "parts \(parts) index \(index): \(r) does not follow \(next)")
                    next = r.upperBound
                    p.a.withUnsafeBufferPointer { ap in
                        c.withUnsafeMutableBufferPointer {
                            weight.gemm(m: m, a: ap.baseAddress!, lda: p.lda, c: $0.baseAddress!, ldc: p.ldc, columns: r)
                        }
                    }
                }
                #expect(next == n)
                #expect(c == ref, "\(parts) parts, m \(m) n \(n) k \(k)")
            }
            // A range that starts inside a panel.
            let r = min(5, n - 1)..<n
            var c = ref
            for i in 0..<m { for j in r { c[i * p.ldc + j] = -1 } }
            p.a.withUnsafeBufferPointer { ap in
                c.withUnsafeMutableBufferPointer {
                    weight.gemm(m: m, a: ap.baseAddress!, lda: p.lda, c: $0.baseAddress!, ldc: p.ldc, columns: r)
                }
            }
            #expect(c == ref, "columns \(r), n \(n)")
        }
    }

    // MARK: conversions

    static let specials: [Float] = [
        0, -0.0, 1, -1, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 127.5, 128.5, 254.5, 255.5, 511.5, 512.5, -512.5, 513,
        1e30, -1e30, .infinity, -.infinity, .nan, -.nan, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
        .leastNonzeroMagnitude, 1e-40, 3.4e9, -3.4e9, 2147483648, -2147483904, 0.49999997, 1.0000001,
    ]

    /// Runs `body` on the portable and on the native path.
    static func bothPaths<R>(_ body: () -> R) -> (portable: R, native: R) {
        (CPU.withKernelPath(.portable, body), CPU.withKernelPath(.native, body))
    }

    static func quantize(_ x: [Float], _ inv: Float, _ zp: Int32) -> [UInt8] {
        var q = [UInt8](repeating: 0xEE, count: x.count)
        x.withUnsafeBufferPointer { xp in
            q.withUnsafeMutableBufferPointer { Int8Quantize.quantize(xp.baseAddress!, count: x.count, invScale: inv, zeroPoint: zp, into: $0.baseAddress!) }
        }
        return q
    }

    /// The rule in Swift: round half to even, NaN to the bottom, clamp to 0...255.
    static func rule(_ x: Float, _ inv: Float, _ zp: Int32) -> UInt8 {
        var r = (x * inv).rounded(.toNearestOrEven)
        if !(r >= -512) { r = -512 }
        if r > 512 { r = 512 }
        return UInt8(max(0, min(255, Int(r) + Int(zp))))
    }

    @Test func quantizeVectorMatchesScalarAndRule() {
        var rng = RNG(seed: 6)
        var x = Self.specials
        for _ in 0..<300 { x.append((rng.uniform() - 0.5) * 700) }
        for _ in 0..<37 { x.append(Float(Int(rng.nextUInt32() % 1000)) / 2 - 250) }   // exact halves: ties
        for inv: Float in [1, 0.37, 2, 100, 1e20, 0, 1e-3] {
            for zp: Int32 in [0, 1, 128, 255] {
                for count in [x.count, 1, 15, 17] {
                    let xs = Array(x.prefix(count))
                    let (s, v) = Self.bothPaths { Self.quantize(xs, inv, zp) }
                    #expect(s == v, "quantize inv \(inv) zp \(zp) n \(count): vector differs from scalar")
                    #expect(s == xs.map { Self.rule($0, inv, zp) }, "quantize inv \(inv) zp \(zp): scalar differs from the rule")
                }
            }
        }
    }

    struct RowsResult: Equatable {
        var q: [UInt8], scaleBits: [UInt32], zp: [Int32]
    }

    static func quantizeRows(_ x: [Float], m: Int, k: Int, ldx: Int) -> RowsResult {
        var q = [UInt8](repeating: 0xEE, count: m * (k + 3)), s = [Float](repeating: -7, count: m), z = [Int32](repeating: -7, count: m)
        x.withUnsafeBufferPointer { xp in
            q.withUnsafeMutableBufferPointer { qp in
                s.withUnsafeMutableBufferPointer { sp in
                    z.withUnsafeMutableBufferPointer {
                        Int8Quantize.quantizeRows(m: m, k: k, xp.baseAddress!, ldx: ldx, into: qp.baseAddress!, ldq: k + 3,
                                                  scale: sp.baseAddress!, zeroPoint: $0.baseAddress!)
                    }
                }
            }
        }
        return RowsResult(q: q, scaleBits: s.map(\.bitPattern), zp: z)
    }

    @Test func quantizeRowsVectorMatchesScalar() {
        var rng = RNG(seed: 7)
        for (m, k) in [(1, 1), (3, 16), (5, 17), (8, 100), (2, 1023), (4, 40)] {
            let ldx = k + 2
            var x = (0..<(m * ldx)).map { _ in (rng.uniform() - 0.3) * 10 }
            // Special rows: all zero, all negative, all positive, with inf / NaN / huge values.
            if m >= 3 {
                for p in 0..<k { x[p] = 0; x[ldx + p] = -1 - Float(p); x[2 * ldx + p] = Float(p) + 0.5 }
            }
            if m >= 5 {
                x[3 * ldx] = .infinity; x[3 * ldx + k / 2] = .nan
                x[4 * ldx + k - 1] = -.infinity
            }
            if m >= 8 { x[7 * ldx] = 3e38; x[7 * ldx + 1] = -3e38; x[6 * ldx + k - 1] = .nan }
            let (s, v) = Self.bothPaths { Self.quantizeRows(x, m: m, k: k, ldx: ldx) }
            #expect(s == v, "quantizeRows m \(m) k \(k): vector differs from scalar")
        }
    }

    static func dequantize(_ c: [Int32], m: Int, n: Int, ldc: Int, aScale: [Float], aZero: [Int32], perRow: Bool,
                           wScale: [Float], colsum: [Int32], bias: [Float]?) -> [UInt32] {
        var y = [Float](repeating: -9, count: m * (n + 1))
        let biasValues = bias ?? [0]
        biasValues.withUnsafeBufferPointer { bp in
            let b = bias == nil ? nil : bp.baseAddress
            c.withUnsafeBufferPointer { cp in
                y.withUnsafeMutableBufferPointer { yp in
                    Int8Quantize.dequantize(m: m, n: n, cp.baseAddress!, ldc: ldc, aScale: aScale, aZero: aZero, perRow: perRow,
                                            wScale: wScale, colsum: colsum, bias: b, into: yp.baseAddress!, ldy: n + 1)
                }
            }
        }
        return y.map(\.bitPattern)
    }

    @Test func dequantizeVectorMatchesScalar() {
        var rng = RNG(seed: 8)
        for (m, n) in [(1, 1), (3, 16), (5, 17), (4, 1024), (2, 10)] {
            let ldc = n + 3
            let c = (0..<(m * ldc)).map { _ in Int32(truncatingIfNeeded: rng.nextUInt32()) >> 6 }
            let colsum = (0..<n).map { _ in Int32(truncatingIfNeeded: rng.nextUInt32()) >> 14 }
            let wScale = (0..<n).map { _ in rng.uniform() * 0.02 + 1e-4 }
            let bias = (0..<n).map { _ in rng.uniform() - 0.5 }
            let aScale = (0..<m).map { _ in rng.uniform() * 0.1 + 1e-3 }
            let aZero = (0..<m).map { _ in Int32(rng.nextUInt32() % 256) }
            for perRow in [true, false] {
                for b in [bias, nil] {
                    let (s, v) = Self.bothPaths {
                        Self.dequantize(c, m: m, n: n, ldc: ldc, aScale: aScale, aZero: aZero, perRow: perRow,
                                        wScale: wScale, colsum: colsum, bias: b)
                    }
                    #expect(s == v, "dequantize m \(m) n \(n) perRow \(perRow) bias \(b != nil): vector differs from scalar")
                }
            }
        }
    }

    /// quantize -> dequantize lands within half a step (plus float rounding) of every input.
    @Test func roundTripWithinHalfAStep() {
        var rng = RNG(seed: 9)
        let (m, k) = (6, 333)
        var x = (0..<(m * k)).map { _ in (rng.uniform() - 0.4) * 8 }
        for p in 0..<k { x[p] = abs(x[p]) }            // all positive
        for p in 0..<k { x[k + p] = -abs(x[k + p]) }   // all negative
        let r = Self.quantizeRows(x, m: m, k: k, ldx: k)
        for i in 0..<m {
            let s = Float(bitPattern: r.scaleBits[i]), z = r.zp[i]
            for p in 0..<k {
                let back = Float(Int32(r.q[i * (k + 3) + p]) - z) * s
                let err = abs(back - x[i * k + p])
                #expect(err <= 0.5 * s * (1 + 1e-4), "row \(i) x \(x[i * k + p]) -> \(back): error \(err) > half step \(0.5 * s)")
            }
        }
    }

    /// The composition the layers use: quantizeRows(A), gemm, dequantize equals the Double
    /// re-computation of (qa - za) · w · (sa · sw) + b to float rounding.
    @Test func quantizedLinearMatchesDoubleRecomputation() throws {
        var rng = RNG(seed: 10)
        let (m, n, k) = (5, 21, 77)
        let x = (0..<(m * k)).map { _ in rng.uniform() * 2 - 0.7 }
        let w = (0..<(n * k)).map { _ in Int8(truncatingIfNeeded: rng.nextUInt32()) }
        let wScale = (0..<n).map { _ in rng.uniform() * 0.01 + 1e-3 }
        let bias = (0..<n).map { _ in rng.uniform() - 0.5 }
        let r = Self.quantizeRows(x, m: m, k: k, ldx: k)
        let weight = try PackedInt8Weight(n: n, k: k, weights: w)
        var c = [Int32](repeating: 0, count: m * n)
        r.q.withUnsafeBufferPointer { qp in
            c.withUnsafeMutableBufferPointer { weight.gemm(m: m, a: qp.baseAddress!, lda: k + 3, c: $0.baseAddress!, ldc: n) }
        }
        let aScale = r.scaleBits.map { Float(bitPattern: $0) }
        let y = Self.dequantize(c, m: m, n: n, ldc: n, aScale: aScale, aZero: r.zp, perRow: true, wScale: wScale,
                                colsum: weight.colsum, bias: bias).map { Float(bitPattern: $0) }
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(Int(r.q[i * (k + 3) + p]) - Int(r.zp[i])) * Double(w[j * k + p]) }
                let ref = s * Double(aScale[i] * wScale[j]) + Double(bias[j])
                let got = Double(y[i * (n + 1) + j])
                #expect(abs(got - ref) <= 1e-5 * max(1, abs(ref)), "y[\(i), \(j)] = \(got), reference \(ref)")
            }
        }
    }
}
