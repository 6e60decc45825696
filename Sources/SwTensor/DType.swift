import CKernels

/// An element type of a `HostTensor`, named as in safetensors headers (`"BF16"`).
///
/// Every dtype is stored little-endian in its natural width: f32 IEEE binary32, bf16 the top
/// 16 bits of a binary32 (8 exponent bits, 7 mantissa bits), f16 IEEE binary16 (5 exponent
/// bits, 10 mantissa bits), i8 / i32 two's complement, u8 unsigned.
public enum DType: String, CaseIterable, Sendable {
    case f32 = "F32"
    case bf16 = "BF16"
    case f16 = "F16"
    case i8 = "I8"
    case i32 = "I32"
    case u8 = "U8"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .i8, .u8: return 1
        case .bf16, .f16: return 2
        case .f32, .i32: return 4
        }
    }

    /// Whether the dtype holds floating-point values (converts to and from `Float`).
    public var isFloatingPoint: Bool { self == .f32 || self == .bf16 || self == .f16 }
}

/// A Swift type that is the storage of one `DType` (`Float` is f32, `BFloat16` is bf16).
public protocol DTypeScalar: BitwiseCopyable {
    /// The dtype this type stores.
    static var dtype: DType { get }
}

extension Float: DTypeScalar { public static var dtype: DType { .f32 } }
extension Int8: DTypeScalar { public static var dtype: DType { .i8 } }
extension Int32: DTypeScalar { public static var dtype: DType { .i32 } }
extension UInt8: DTypeScalar { public static var dtype: DType { .u8 } }

/// A bfloat16 value: the top half of a Float32's bits.
///
/// `init(_:)` rounds to nearest, ties to even (Float subnormals included); a NaN keeps its
/// sign and top payload bits and becomes quiet. `float` is exact.
public struct BFloat16: DTypeScalar, Hashable, Sendable, CustomStringConvertible {
    public static var dtype: DType { .bf16 }
    /// The 16 stored bits.
    public var bitPattern: UInt16

    public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

    /// The nearest bfloat16 to `value` (ties to even).
    public init(_ value: Float) {
        var v = value, b: UInt16 = 0
        swt_f32_to_bf16_portable(&v, &b, 1)
        bitPattern = b
    }

    /// The value as a Float (exact).
    public var float: Float { Float(bitPattern: UInt32(bitPattern) << 16) }

    public var description: String { "\(float)" }
}

/// An IEEE 754 binary16 value (half precision), stored as its bits.
///
/// `init(_:)` rounds to nearest, ties to even, with subnormals, and |x| >= 65520 becoming
/// infinity; a NaN keeps its sign and top payload bits and becomes quiet. `float` is exact
/// except that a signalling NaN comes back quiet (as `vcvtph2ps` does).
public struct Half: DTypeScalar, Hashable, Sendable, CustomStringConvertible {
    public static var dtype: DType { .f16 }
    /// The 16 stored bits.
    public var bitPattern: UInt16

    public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

    /// The nearest binary16 to `value` (ties to even).
    public init(_ value: Float) {
        var v = value, h: UInt16 = 0
        swt_f32_to_f16_portable(&v, &h, 1)
        bitPattern = h
    }

    /// The value as a Float.
    public var float: Float {
        var h = bitPattern, f: Float = 0
        swt_f16_to_f32_portable(&h, &f, 1)
        return f
    }

    public var description: String { "\(float)" }
}

/// Bulk Float32 <-> bf16 / f16 conversion (target `CKernels`).
///
/// Each function dispatches: AVX-512 (`vcvtneps2bf16` with AVX512-BF16, `vcvtps2ph` /
/// `vcvtph2ps`) when `CPU.kernelFeatures` allows, else the portable integer loop; both give
/// the same bits for every input. Counts are elements; buffers must not overlap.
public enum DTypeConversion {
    /// `dst[i] = BFloat16(src[i])` for i in 0..<count.
    public static func floatToBF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) {
        swt_f32_to_bf16(src, dst, count)
    }

    /// `dst[i] = BFloat16(bitPattern: src[i]).float`.
    public static func bf16ToFloat(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        swt_bf16_to_f32(src, dst, count)
    }

    /// `dst[i] = Half(src[i])`.
    public static func floatToF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) {
        swt_f32_to_f16(src, dst, count)
    }

    /// `dst[i] = Half(bitPattern: src[i]).float`.
    public static func f16ToFloat(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        swt_f16_to_f32(src, dst, count)
    }

    /// Converts `count` Floats into `dtype` (a floating-point dtype) at `dst`.
    public static func fromFloat(_ src: UnsafePointer<Float>, to dtype: DType, _ dst: UnsafeMutableRawPointer, count: Int) {
        switch dtype {
        case .f32: dst.copyMemory(from: src, byteCount: 4 * count)
        case .bf16: floatToBF16(src, dst.assumingMemoryBound(to: UInt16.self), count: count)
        case .f16: floatToF16(src, dst.assumingMemoryBound(to: UInt16.self), count: count)
        default: preconditionFailure("DTypeConversion.fromFloat: \(dtype.rawValue) is not a float dtype")
        }
    }

    /// Converts `count` elements of `dtype` (a floating-point dtype) at `src` into Floats.
    public static func toFloat(_ src: UnsafeRawPointer, from dtype: DType, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        switch dtype {
        case .f32: UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: 4 * count)
        case .bf16: bf16ToFloat(src.assumingMemoryBound(to: UInt16.self), dst, count: count)
        case .f16: f16ToFloat(src.assumingMemoryBound(to: UInt16.self), dst, count: count)
        default: preconditionFailure("DTypeConversion.toFloat: \(dtype.rawValue) is not a float dtype")
        }
    }
}
