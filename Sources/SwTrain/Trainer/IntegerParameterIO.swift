import SwCheckpoint
import SwNN
import SwTensor

extension SafeTensorsFile {
    /// Reads a model parameter into its Float tensor: float dtypes as `read(_:into:)`; an
    /// integer parameter of an int8 layer (`integer` = its declared dtype, see
    /// `IntegerParameters`) must be stored with exactly that dtype and is converted exactly.
    public func readParameter(_ name: String, into tensor: Tensor, integer: DType?) throws(CheckpointError) {
        guard let integer else { return try read(name, into: tensor) }
        let e = try entry(name)
        guard e.dtype == SafeTensorsDType(integer) else {
            throw .dtypeMismatch(file: path, tensor: name, stored: e.dtype.rawValue, requested: integer.rawValue)
        }
        guard e.shape == tensor.shape else {
            throw .shapeMismatch(file: path, tensor: name, stored: e.shape, destination: tensor.shape)
        }
        let h = try hostTensor(name)
        let p = tensor.pointer
        switch integer {
        case .i8: let v = h.rawPointer.assumingMemoryBound(to: Int8.self); for i in 0..<h.count { p[i] = Float(v[i]) }
        case .u8: let v = h.rawPointer.assumingMemoryBound(to: UInt8.self); for i in 0..<h.count { p[i] = Float(v[i]) }
        case .i32: let v = h.rawPointer.assumingMemoryBound(to: Int32.self); for i in 0..<h.count { p[i] = Float(v[i]) }
        default: try read(name, into: tensor)
        }
    }
}

extension SafeTensorsWriter {
    /// Adds every parameter of `model` by name: Float tensors as F32, the integer parameters of
    /// int8 layers (`Model.integerParameterDTypes`) as their integer dtype (values rounded).
    public mutating func addParameters(of model: Model) throws(CheckpointError) {
        let store = model.parameters
        let integers = model.integerParameterDTypes
        for e in store.entries {
            let v = store.value(e.name)!
            guard let dtype = integers[e.name] else { try add(e.name, v); continue }
            let h = HostTensor(zeros: e.shape, dtype: dtype)
            switch dtype {
            case .i8: let d = h.rawPointer.assumingMemoryBound(to: Int8.self); for i in 0..<v.count { d[i] = Int8(min(127, max(-128, v.pointer[i].rounded()))) }
            case .u8: let d = h.rawPointer.assumingMemoryBound(to: UInt8.self); for i in 0..<v.count { d[i] = UInt8(min(255, max(0, v.pointer[i].rounded()))) }
            case .i32: let d = h.rawPointer.assumingMemoryBound(to: Int32.self); for i in 0..<v.count { d[i] = Int32(v.pointer[i].rounded()) }
            default: try add(e.name, v); continue
            }
            try add(e.name, h)
        }
    }
}
