import CKernels
import Testing
import SwTensor

/// A small binary float format (bf16: 8 exponent and 7 mantissa bits; f16: 5 and 10),
/// decoded and rounded in Double straight from the IEEE definitions, independent of the kernels.
struct SmallFloat {
    let exponentBits: Int, mantissaBits: Int
    static let bf16 = SmallFloat(exponentBits: 8, mantissaBits: 7)
    static let f16 = SmallFloat(exponentBits: 5, mantissaBits: 10)

    var bias: Int { (1 << (exponentBits - 1)) - 1 }
    var maxExponentField: UInt16 { UInt16((1 << exponentBits) - 1) }

    /// The value of `bits` (nil for NaN).
    func value(_ bits: UInt16) -> Double? {
        let sign: Double = bits & 0x8000 != 0 ? -1 : 1
        let e = Int((bits >> UInt16(mantissaBits)) & maxExponentField)
        let m = Double(bits & UInt16((1 << mantissaBits) - 1))
        if e == Int(maxExponentField) { return m == 0 ? sign * .infinity : nil }
        if e == 0 { return sign * m * Double(sign: .plus, exponent: 1 - bias - mantissaBits, significand: 1) }
        return sign * (Double(1 << mantissaBits) + m) * Double(sign: .plus, exponent: e - bias - mantissaBits, significand: 1)
    }

    /// The bits of `x` rounded to nearest, ties to even (NaN excluded).
    func round(_ x: Float) -> UInt16 {
        let sign: UInt16 = x.sign == .minus ? 0x8000 : 0
        let a = Double(x.magnitude)
        let inf = sign | (maxExponentField << UInt16(mantissaBits))
        if a == .infinity { return inf }
        if a == 0 { return sign }
        let emin = 1 - bias
        let e = max(Int(a.exponent), emin)
        let quantum = Double(sign: .plus, exponent: e - mantissaBits, significand: 1)
        let r = (a / quantum).rounded(.toNearestOrEven) * quantum   // exact: a has 24 bits
        if r >= Double(sign: .plus, exponent: bias + 1, significand: 1) { return inf }
        let minNormal = Double(sign: .plus, exponent: emin, significand: 1)
        if r < minNormal {
            return sign | UInt16(r / Double(sign: .plus, exponent: emin - mantissaBits, significand: 1))
        }
        let re = Int(r.exponent)
        let mant = r / Double(sign: .plus, exponent: re - mantissaBits, significand: 1) - Double(1 << mantissaBits)
        return sign | UInt16(re + bias) << UInt16(mantissaBits) | UInt16(mant)
    }

    /// Floats at and around every tie: each finite value, the midpoint to the next one up and
    /// the floats just below and above that midpoint, for both signs; plus fixed edge cases.
    func edgeFloats() -> [Float] {
        var out: [Float] = [0, -0.0, .leastNonzeroMagnitude, .leastNormalMagnitude,
                            Float.leastNormalMagnitude.nextDown, .greatestFiniteMagnitude,
                            .infinity, -.infinity, 65504, 65519.996, 65520, 65536, 1e-8, 3e-8, 6e-8]
        for b in UInt16(0)..<UInt16(maxExponentField << UInt16(mantissaBits)) {
            let v = value(b)!
            var next = value(b + 1)!
            if next.isInfinite { next = v + (v - value(b - 1)!) }   // the overflow threshold's midpoint
            let mid = Float((v + next) / 2)   // exact: one more bit than the format
            out += [Float(v), mid, mid.nextDown, mid.nextUp]
        }
        return out + out.map { -$0 }
    }
}

/// Quiet NaN inputs with payloads, signalling NaNs, both signs.
let nanFloats: [Float] = [0x7FC0_0000, 0x7F80_0001, 0x7FBF_FFFF, 0x7FC0_1234, 0x7FFF_FFFF, 0x7F80_2000]
    .flatMap { [Float(bitPattern: $0), Float(bitPattern: $0 | 0x8000_0000)] }

/// Runs a float -> 16-bit conversion over `xs`.
func convert(_ xs: [Float], _ f: (UnsafePointer<Float>, UnsafeMutablePointer<UInt16>, Int) -> Void) -> [UInt16] {
    var out = [UInt16](repeating: 0xDEAD, count: xs.count)
    xs.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { f(s.baseAddress!, $0.baseAddress!, xs.count) } }
    return out
}

/// Runs a 16-bit -> float conversion over `hs`, returning the bit patterns.
func convert(_ hs: [UInt16], _ f: (UnsafePointer<UInt16>, UnsafeMutablePointer<Float>, Int) -> Void) -> [UInt32] {
    var out = [Float](repeating: 0, count: hs.count)
    hs.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { f(s.baseAddress!, $0.baseAddress!, hs.count) } }
    return out.map(\.bitPattern)
}

/// "index: got vs want" for the first few positions where `got` and `want` differ (empty
/// when equal), so a failure names the inputs without printing whole arrays.
func differences<T: Equatable>(_ got: [T], _ want: [T], inputs: [Any]? = nil) -> [String] {
    guard got.count == want.count else { return ["\(got.count) results for \(want.count) expected"] }
    var out: [String] = []
    for i in got.indices where got[i] != want[i] {
        out.append("[\(i)]\(inputs.map { " input \($0[i])" } ?? ""): \(got[i]) vs \(want[i])")
        if out.count == 5 { break }
    }
    return out
}

/// Every 16-bit pattern.
let allPatterns = (0...UInt16.max).map { $0 }

/// Float32 <-> bf16 / f16 against the Double reference, and the AVX-512 loops against the
/// portable ones bit for bit.
@Suite struct DTypeConversionTests {
    static let vector = swt_convert_has_avx512(0) == 1
    static let vectorBF16 = swt_convert_has_avx512(1) == 1

    @Test func everyBF16PatternWidensExactly() {
        let want = allPatterns.map { (h: UInt16) -> UInt32 in
            if let v = SmallFloat.bf16.value(h) { return Float(v).bitPattern }
            return UInt32(h) << 16
        }
        let d = differences(convert(allPatterns, swt_bf16_to_f32_portable), want, inputs: allPatterns)
        #expect(d.isEmpty, "\(d)")   // a NaN keeps its bits
    }

    @Test func everyF16PatternWidensExactly() {
        // A NaN: sign, the 10 payload bits on top of the mantissa, and the quiet bit.
        let want = allPatterns.map { (h: UInt16) -> UInt32 in
            if let v = SmallFloat.f16.value(h) { return Float(v).bitPattern }
            let sign = UInt32(h & 0x8000) << 16, payload = UInt32(h & 0x3FF) << 13
            return sign | 0x7FC0_0000 | payload
        }
        let d = differences(convert(allPatterns, swt_f16_to_f32_portable), want, inputs: allPatterns)
        #expect(d.isEmpty, "\(d)")
    }

    @Test(arguments: ["bf16", "f16"])
    func edgeFloatsRoundToNearestEven(format: String) {
        let f = format == "bf16" ? SmallFloat.bf16 : .f16
        let xs = f.edgeFloats()
        let got = convert(xs, format == "bf16" ? swt_f32_to_bf16_portable : swt_f32_to_f16_portable)
        var wrong = 0
        for (x, g) in zip(xs, got) where g != f.round(x) {
            wrong += 1
            if wrong <= 5 { Issue.record("\(format)(\(x), bits \(x.bitPattern)) = \(g), want \(f.round(x))") }
        }
        #expect(wrong == 0)
        // NaN: sign and top payload bits kept, quiet bit set.
        let nans = convert(nanFloats, format == "bf16" ? swt_f32_to_bf16_portable : swt_f32_to_f16_portable)
        let want = nanFloats.map { (x: Float) -> UInt16 in
            let b = x.bitPattern
            if format == "bf16" { return UInt16(b >> 16) | 0x40 }
            let sign = UInt16((b >> 16) & 0x8000), payload = UInt16((b >> 13) & 0x3FF)
            return sign | 0x7E00 | payload
        }
        let d = differences(nans, want, inputs: nanFloats.map(\.bitPattern))
        #expect(d.isEmpty, "\(d)")
    }

    /// Every finite pattern survives the round trip to Float and back.
    @Test func finitePatternsRoundTrip() {
        for (f, narrow, widen) in [(SmallFloat.bf16, swt_f32_to_bf16_portable, swt_bf16_to_f32_portable),
                                   (.f16, swt_f32_to_f16_portable, swt_f16_to_f32_portable)] {
            let finite = allPatterns.filter { f.value($0) != nil }
            let floats = convert(finite, widen).map(Float.init(bitPattern:))
            let d = differences(convert(floats, narrow), finite)
            #expect(d.isEmpty, "\(d)")
        }
    }

    /// Inputs for the path comparison: the edge floats, NaNs, and a stride through all 2^32
    /// patterns (subnormals included), in an odd count so the loops' tails run.
    static let pathInputs: [Float] = {
        var xs = SmallFloat.f16.edgeFloats() + SmallFloat.bf16.edgeFloats() + nanFloats
        var b: UInt32 = 0
        for _ in 0..<(1 << 18) { xs.append(Float(bitPattern: b)); b &+= 16411 }
        for i in 0..<4099 { xs.append(Float(bitPattern: UInt32(i) * 2048 + 1)) }   // float subnormals
        return xs.count % 16 == 0 ? xs + [1.5] : xs
    }()

    @Test(.enabled(if: vectorBF16, "no AVX512-BF16: only the portable loop is tested"))
    func bf16VectorMatchesPortable() {
        let xs = Self.pathInputs
        let d = differences(convert(xs, swt_f32_to_bf16_avx512), convert(xs, swt_f32_to_bf16_portable), inputs: xs.map(\.bitPattern))
        #expect(d.isEmpty, "\(d)")
    }

    @Test(.enabled(if: vector, "no AVX-512: only the portable loops are tested"))
    func otherVectorLoopsMatchPortable() {
        let xs = Self.pathInputs
        let bits = xs.map(\.bitPattern)
        for d in [differences(convert(xs, swt_f32_to_f16_avx512), convert(xs, swt_f32_to_f16_portable), inputs: bits),
                  differences(convert(allPatterns, swt_f16_to_f32_avx512), convert(allPatterns, swt_f16_to_f32_portable)),
                  differences(convert(allPatterns, swt_bf16_to_f32_avx512), convert(allPatterns, swt_bf16_to_f32_portable))] {
            #expect(d.isEmpty, "\(d)")
        }
        // A tail of every length 0...17 from an unaligned start.
        for n in 0...17 {
            let part = Array(xs[3..<(3 + n)])
            #expect(convert(part, swt_f32_to_f16_avx512) == convert(part, swt_f32_to_f16_portable))
        }
    }

    @Test(.enabled(if: CPU.has(.f16c), "no F16C: only the portable loops are tested"))
    func f16cLoopsMatchPortable() {
        let xs = Self.pathInputs
        let d1 = differences(convert(xs, swt_f32_to_f16_f16c), convert(xs, swt_f32_to_f16_portable), inputs: xs.map(\.bitPattern))
        let d2 = differences(convert(allPatterns, swt_f16_to_f32_f16c), convert(allPatterns, swt_f16_to_f32_portable))
        #expect(d1.isEmpty && d2.isEmpty, "\(d1) \(d2)")
        for n in 0...9 {
            let part = Array(xs[5..<(5 + n)])
            #expect(convert(part, swt_f32_to_f16_f16c) == convert(part, swt_f32_to_f16_portable))
        }
    }

    /// The public entry points agree on both kernel paths and with the scalar types.
    @Test func dispatchAgreesOnBothPaths() {
        let xs = Array(Self.pathInputs.prefix(5001))
        func run(_ path: CPU.KernelPath) -> [[UInt16]] {
            CPU.withKernelPath(path) {
                [convert(xs) { DTypeConversion.floatToBF16($0, $1, count: $2) },
                 convert(xs) { DTypeConversion.floatToF16($0, $1, count: $2) }]
            }
        }
        let portable = run(.portable), native = run(.native)
        for d in [differences(native[0], portable[0]), differences(native[1], portable[1]),
                  differences(portable[0], xs.map { BFloat16($0).bitPattern }),
                  differences(portable[1], xs.map { Half($0).bitPattern })] {
            #expect(d.isEmpty, "\(d)")
        }
        let widened = CPU.withKernelPath(.native) { convert(allPatterns) { DTypeConversion.f16ToFloat($0, $1, count: $2) } }
        let d = differences(widened, allPatterns.map { Half(bitPattern: $0).float.bitPattern })
        #expect(d.isEmpty, "\(d)")
    }

    /// The reference itself: known encodings (so a wrong reference cannot pass silently).
    @Test func referenceKnowsKnownEncodings() {
        #expect(SmallFloat.f16.round(1) == 0x3C00 && SmallFloat.f16.round(65504) == 0x7BFF)
        #expect(SmallFloat.f16.round(65520) == 0x7C00 && SmallFloat.f16.round(-2) == 0xC000)
        #expect(SmallFloat.f16.round(Float(sign: .plus, exponent: -24, significand: 1)) == 0x0001)
        #expect(SmallFloat.f16.round(Float(sign: .plus, exponent: -25, significand: 1)) == 0x0000)   // tie to even
        #expect(SmallFloat.f16.round(Float(sign: .plus, exponent: -25, significand: 1.5)) == 0x0001)
        #expect(SmallFloat.bf16.round(1) == 0x3F80 && SmallFloat.bf16.round(-3) == 0xC040)
        #expect(SmallFloat.bf16.round(Float(bitPattern: 0x3F80_8000)) == 0x3F80)   // tie: stays even
        #expect(SmallFloat.bf16.round(Float(bitPattern: 0x3F81_8000)) == 0x3F82)   // tie: up to even
        #expect(SmallFloat.bf16.round(.greatestFiniteMagnitude) == 0x7F80)
        #expect(SmallFloat.bf16.value(0x0001) == Double(Float(bitPattern: 0x0001_0000)))
    }
}
