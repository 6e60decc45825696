import Testing
import SwTensor

@Suite struct HostTensorTests {
    @Test func typedAccessChecksTheDType() throws {
        let t = HostTensor(shape: [2, 2], values: [Int32(-1), 2, 3, Int32.max])
        #expect(t.dtype == .i32 && t.count == 4 && t.byteCount == 16)
        #expect(try t.values(as: Int32.self) == [-1, 2, 3, Int32.max])
        #expect(throws: HostTensorError.dtypeMismatch(stored: .i32, requested: .f32)) { try t.values(as: Float.self) }
        try t.withUnsafeMutableBufferPointer(as: Int32.self) { $0[1] = 7 }
        #expect(try t.values(as: Int32.self) == [-1, 7, 3, Int32.max])
        #expect(t.withUnsafeBytes { Array($0.prefix(4)) } == [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(Int(bitPattern: t.rawPointer) % 64 == 0)
        let c = t.copy()
        try c.withUnsafeMutableBufferPointer(as: Int32.self) { $0[0] = 0 }
        #expect(try t.values(as: Int32.self)[0] == -1)
    }

    @Test func bytesMustFitShapeAndDType() throws {
        let ok = try [UInt8](repeating: 1, count: 6).withUnsafeBytes { try HostTensor(shape: [3], dtype: .bf16, bytes: $0) }
        #expect(try ok.values(as: BFloat16.self) == Array(repeating: BFloat16(bitPattern: 0x0101), count: 3))
        #expect(throws: HostTensorError.byteCountMismatch(dtype: .f16, shape: [2, 2], expected: 8, actual: 6)) {
            try [UInt8](repeating: 0, count: 6).withUnsafeBytes { try HostTensor(shape: [2, 2], dtype: .f16, bytes: $0) }
        }
    }

    @Test(arguments: [DType.f32, .bf16, .f16])
    func floatTensorsConvertBothWays(dtype: DType) throws {
        let values: [Float] = [1, -2.5, 0.1, 65504, 1e-6, -0.0, .infinity, 3.14159]
        let h = try HostTensor(converting: Tensor(shape: [2, 4], values: values), to: dtype)
        #expect(h.shape == [2, 4] && h.dtype == dtype)
        let back = try h.floatTensor().array
        let want: [Float] = switch dtype {
        case .bf16: values.map { BFloat16($0).float }
        case .f16: values.map { Half($0).float }
        default: values
        }
        #expect(back.map(\.bitPattern) == want.map(\.bitPattern))
        if dtype != .f32 { #expect(back != values) }   // 0.1 is not exact in 16 bits
    }

    @Test func integerDTypesRefuseFloatConversion() {
        let h = HostTensor(zeros: [3], dtype: .u8)
        #expect(throws: HostTensorError.notFloatingPoint(dtype: .u8, operation: "floatTensor()")) { try h.floatTensor() }
        #expect(throws: HostTensorError.notFloatingPoint(dtype: .i8, operation: "HostTensor(converting:to:)")) {
            try HostTensor(converting: Tensor(zeros: [1]), to: .i8)
        }
    }
}
