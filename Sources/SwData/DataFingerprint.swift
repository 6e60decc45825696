import SwTensor

/// A cheap identity of a data set that the ranks of a job compare at start-up, so a host with
/// an older copy of the data at the same path is caught before training (not a hang later).
///
/// Three numbers: the sample count; a hash of the sample and target shapes and the class
/// count; and FNV-1a over the bit patterns of the inputs and targets of `sampled` samples at
/// evenly spaced indices (always the first and the last). Cost: `sampled` gathers, whatever
/// the data size (64 samples of MNIST-1D: about 20 KB hashed).
public enum DataFingerprint {
    public static func of(_ data: any Dataset, sampled: Int = 64) -> (count: Int64, shapes: UInt64, content: UInt64) {
        var shapes = FNV()
        for v in data.sampleShape + [-1] + data.targetShape + [-1, data.classes ?? -1] { shapes.add(UInt64(bitPattern: Int64(v))) }
        var content = FNV()
        let n = data.count
        if n > 0 {
            let k = min(sampled, n)
            let indices = (0..<k).map { k == 1 ? 0 : Int((Double($0) * Double(n - 1) / Double(k - 1)).rounded()) }
            let x = Tensor(zeros: [k, max(data.sampleSize, 1)]), y = Tensor(zeros: [k, max(data.targetSize, 1)])
            x.reshape([k] + data.sampleShape)
            y.reshape([k] + data.targetShape)
            indices.withUnsafeBufferPointer { data.gather($0, inputs: x, targets: y) }
            for t in [x, y] {
                for i in 0..<t.count { content.add(UInt64(t.pointer[i].bitPattern)) }
            }
        }
        return (Int64(n), shapes.value, content.value)
    }

    /// 64-bit FNV-1a, fed whole words.
    struct FNV {
        var value: UInt64 = 0xCBF2_9CE4_8422_2325
        mutating func add(_ word: UInt64) {
            var w = word
            for _ in 0..<8 { value = (value ^ (w & 0xFF)) &* 0x100_0000_01B3; w >>= 8 }
        }
    }
}
