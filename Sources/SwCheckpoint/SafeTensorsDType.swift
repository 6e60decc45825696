import SwTensor

/// An element type of a safetensors tensor, spelled as in the file header (`"F32"`).
///
/// All data is little-endian. Every dtype here is readable as raw bytes; the typed accessors
/// (`SafeTensorsFile.values(_:as:)`) cover the ones with a `SafeTensorsScalar` Swift type, and
/// `SafeTensorsFile.floats(_:)` converts F64, F16 and BF16 to Float; F32, BF16, F16, I8, I32
/// and U8 also read into and write from a `HostTensor` (SwTensor's `DType`). Packed 4-bit types are
/// not supported (they are reported as unknown dtypes).
public enum SafeTensorsDType: String, CaseIterable, Sendable {
    case bool = "BOOL"
    case u8 = "U8"
    case i8 = "I8"
    case f8e5m2 = "F8_E5M2"
    case f8e4m3 = "F8_E4M3"
    case i16 = "I16"
    case u16 = "U16"
    case f16 = "F16"
    case bf16 = "BF16"
    case i32 = "I32"
    case u32 = "U32"
    case f32 = "F32"
    case f64 = "F64"
    case i64 = "I64"
    case u64 = "U64"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .u8, .i8, .f16, .bf16, .i32, .f32: return hostDType!.size   // DType's own table
        case .bool, .f8e5m2, .f8e4m3: return 1
        case .i16, .u16: return 2
        case .u32: return 4
        case .f64, .i64, .u64: return 8
        }
    }
}

extension SafeTensorsDType {
    /// The safetensors dtype of a `HostTensor` dtype (same header name).
    public init(_ dtype: DType) { self.init(rawValue: dtype.rawValue)! }

    /// The `HostTensor` dtype with this name, or nil for dtypes `HostTensor` does not hold.
    public var hostDType: DType? { DType(rawValue: rawValue) }
}

/// A Swift type stored in safetensors with one fixed dtype (`Float` is `F32`).
public protocol SafeTensorsScalar: BitwiseCopyable {
    /// The dtype of this type in a safetensors file.
    static var safeTensorsDType: SafeTensorsDType { get }
}

extension Float: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .f32 } }
extension Double: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .f64 } }
extension Int64: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .i64 } }
extension Int32: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .i32 } }
extension Int16: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .i16 } }
extension Int8: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .i8 } }
extension UInt64: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .u64 } }
extension UInt32: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .u32 } }
extension UInt16: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .u16 } }
extension UInt8: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .u8 } }
extension BFloat16: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .bf16 } }
extension Half: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .f16 } }

#if _endian(big)
#error("SwCheckpoint copies little-endian safetensors data as is; big-endian hosts are not supported")
#endif
