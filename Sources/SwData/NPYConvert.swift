extension NPYHeader {
    /// Converts all elements of the array in `bytes` (the same bytes the header was parsed
    /// from) to Float32 at `dst`. float32 is a straight copy; other types convert per element.
    public func readFloats(_ bytes: UnsafeRawBufferPointer, into dst: UnsafeMutablePointer<Float>) {
        let n = count
        let src = bytes.baseAddress! + dataOffset
        @inline(__always) func convert<T>(_: T.Type, _ f: (T) -> Float) {
            for i in 0..<n { dst[i] = f(src.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)) }
        }
        switch (dtype.kind, dtype.size) {
        case (.float, 4): UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: n * 4)
        case (.float, 8): convert(Double.self) { Float($0) }
        case (.float, _): convert(UInt16.self) { Float(Float16(bitPattern: $0)) }
        case (.signed, 1): convert(Int8.self) { Float($0) }
        case (.signed, 2): convert(Int16.self) { Float($0) }
        case (.signed, 4): convert(Int32.self) { Float($0) }
        case (.signed, _): convert(Int64.self) { Float($0) }
        case (.unsigned, 1), (.bool, _): convert(UInt8.self) { Float($0) }
        case (.unsigned, 2): convert(UInt16.self) { Float($0) }
        case (.unsigned, 4): convert(UInt32.self) { Float($0) }
        case (.unsigned, _): convert(UInt64.self) { Float($0) }
        }
    }

    /// The elements as class indices. Integer types are taken as they are; float types must
    /// hold whole numbers. A negative, fractional or (when `classes` is given) too large label
    /// throws `DataError.badLabel` naming the sample.
    public func readLabels(_ bytes: UnsafeRawBufferPointer, file: String, classes: Int?) throws(DataError) -> [Int] {
        let n = count
        let src = bytes.baseAddress! + dataOffset
        var labels = [Int](repeating: 0, count: n)
        let limit = classes ?? Int.max
        func check<T>(_: T.Type, _ f: (T) -> Int?, _ show: (T) -> String) throws(DataError) {
            for i in 0..<n {
                let raw = src.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)
                guard let v = f(raw), v >= 0, v < limit else {
                    throw .badLabel(file: file, index: i, value: show(raw), classes: classes)
                }
                labels[i] = v
            }
        }
        switch (dtype.kind, dtype.size) {
        case (.float, 4): try check(Float.self, { Int(exactly: $0) }, { "\($0)" })
        case (.float, 8): try check(Double.self, { Int(exactly: $0) }, { "\($0)" })
        case (.float, _): try check(UInt16.self, { Int(exactly: Float(Float16(bitPattern: $0))) },
                                    { "\(Float(Float16(bitPattern: $0)))" })
        case (.signed, 1): try check(Int8.self, { Int($0) }, { "\($0)" })
        case (.signed, 2): try check(Int16.self, { Int($0) }, { "\($0)" })
        case (.signed, 4): try check(Int32.self, { Int($0) }, { "\($0)" })
        case (.signed, _): try check(Int64.self, { Int($0) }, { "\($0)" })
        case (.unsigned, 1), (.bool, _): try check(UInt8.self, { Int($0) }, { "\($0)" })
        case (.unsigned, 2): try check(UInt16.self, { Int($0) }, { "\($0)" })
        case (.unsigned, 4): try check(UInt32.self, { Int($0) }, { "\($0)" })
        case (.unsigned, _): try check(UInt64.self, { Int(exactly: $0) }, { "\($0)" })
        }
        return labels
    }
}
