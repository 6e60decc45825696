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

    /// The tensor's elements as Float: F32 copied as is, F64, F16 and BF16 converted (exact,
    /// except that an F16 signalling NaN comes back quiet).
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
        case .bf16, .f16:
            let dtype: DType = e.dtype == .bf16 ? .bf16 : .f16
            if Int(bitPattern: src) % 2 == 0 {
                DTypeConversion.toFloat(src, from: dtype, dst, count: e.count)
            } else {
                // Offsets need not be even: convert from an aligned copy.
                let copy = HostTensor(zeros: [e.count], dtype: dtype)
                copy.rawPointer.copyMemory(from: src, byteCount: e.dataOffsets.count)
                DTypeConversion.toFloat(copy.rawPointer, from: dtype, dst, count: e.count)
            }
        default:
            preconditionFailure("checkFloatReadable lets only float dtypes through")
        }
    }
}

/// `HostTensor` reads: F32, BF16, F16, I8, I32 and U8 tensors as stored, no conversion.
extension SafeTensorsFile {
    /// A new `HostTensor` with the stored dtype, shape and bytes. Other dtypes (F64, I64, ...)
    /// are refused with `dtypeMismatch`.
    public func hostTensor(_ name: String) throws(CheckpointError) -> HostTensor {
        let e = try entry(name)
        let dtype = try hostDType(e)
        let t = HostTensor(zeros: e.shape, dtype: dtype)
        if e.dataOffsets.count > 0 { t.rawPointer.copyMemory(from: dataStart(e), byteCount: e.dataOffsets.count) }
        return t
    }

    /// Copies the tensor's bytes into `tensor`, whose dtype and shape must equal the stored ones.
    public func read(_ name: String, into tensor: HostTensor) throws(CheckpointError) {
        let e = try entry(name)
        let dtype = try hostDType(e)
        guard dtype == tensor.dtype else {
            throw .dtypeMismatch(file: path, tensor: name, stored: e.dtype.rawValue, requested: tensor.dtype.rawValue)
        }
        guard e.shape == tensor.shape else {
            throw .shapeMismatch(file: path, tensor: name, stored: e.shape, destination: tensor.shape)
        }
        if e.dataOffsets.count > 0 { tensor.rawPointer.copyMemory(from: dataStart(e), byteCount: e.dataOffsets.count) }
    }

    private func hostDType(_ e: SafeTensorsEntry) throws(CheckpointError) -> DType {
        guard let d = e.dtype.hostDType else {
            throw .dtypeMismatch(file: path, tensor: e.name, stored: e.dtype.rawValue,
                                 requested: "a HostTensor (F32, BF16, F16, I8, I32 or U8)")
        }
        return d
    }
}
