#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SwTensor

/// Typed reads of `SafeTensorsFile` tensors.
extension SafeTensorsFile {
    /// The tensor's elements as `T`; the stored dtype must be `T.safeTensorsDType` exactly.
    public func values<T: SafeTensorsScalar>(_ name: String, as type: T.Type = T.self) throws(CheckpointError) -> [T] {
        let e = try entry(name)
        guard e.dtype == T.safeTensorsDType else {
            throw .dtypeMismatch(file: path, tensor: name, stored: e.dtype.rawValue, requested: T.safeTensorsDType.rawValue)
        }
        let src = dataStart(e)
        return [T](unsafeUninitializedCapacity: e.count) { buffer, initialized in
            if e.count > 0 { memcpy(buffer.baseAddress!, src, e.dataOffsets.count) }
            initialized = e.count
        }
    }

    /// The tensor's elements as Float: F32 copied as is, F64, F16 and BF16 converted.
    /// Integer dtypes are refused (`dtypeMismatch`) rather than silently converted.
    public func floats(_ name: String) throws(CheckpointError) -> [Float] {
        let e = try entry(name)
        try checkFloatReadable(e)
        return [Float](unsafeUninitializedCapacity: e.count) { buffer, initialized in
            convert(e, into: buffer.baseAddress)
            initialized = e.count
        }
    }

    /// Copies the tensor into `tensor`, whose shape must equal the stored shape
    /// (F32 by `memcpy`; F64, F16 and BF16 converted).
    public func read(_ name: String, into tensor: Tensor) throws(CheckpointError) {
        let e = try entry(name)
        guard e.shape == tensor.shape else {
            throw .shapeMismatch(file: path, tensor: name, stored: e.shape, destination: tensor.shape)
        }
        try checkFloatReadable(e)
        convert(e, into: tensor.pointer)
    }

    /// A new tensor with the stored shape and elements (see `floats`).
    public func tensor(_ name: String) throws(CheckpointError) -> Tensor {
        let e = try entry(name)
        let t = Tensor(zeros: e.shape)
        try read(name, into: t)
        return t
    }

    private func checkFloatReadable(_ e: SafeTensorsEntry) throws(CheckpointError) {
        switch e.dtype {
        case .f32, .f64, .f16, .bf16: return
        default: throw .dtypeMismatch(file: path, tensor: e.name, stored: e.dtype.rawValue, requested: "F32")
        }
    }

    /// Writes `e.count` floats converted from `e`'s bytes to `dst` (unaligned sources are fine).
    private func convert(_ e: SafeTensorsEntry, into dst: UnsafeMutablePointer<Float>?) {
        guard e.count > 0, let dst else { return }
        let src = dataStart(e)
        switch e.dtype {
        case .f32:
            memcpy(dst, src, e.dataOffsets.count)
        case .f64:
            for i in 0..<e.count { dst[i] = Float(src.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
        case .bf16:
            for i in 0..<e.count {
                dst[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
            }
        case .f16:
            for i in 0..<e.count { dst[i] = halfToFloat(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        default:
            preconditionFailure("checkFloatReadable lets only float dtypes through")
        }
    }
}

/// IEEE 754 binary16 bits to Float (exact; subnormals, infinities and NaN kept).
func halfToFloat(_ h: UInt16) -> Float {
    let sign: UInt32 = UInt32(h & 0x8000) << 16
    let exponent = Int((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    switch exponent {
    case 0:
        // zero or subnormal: mantissa * 2^-24
        let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign != 0 ? -magnitude : magnitude
    case 31:
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    default:
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }
}
