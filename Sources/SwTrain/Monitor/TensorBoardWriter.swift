import Foundation

/// TensorBoard scalars written by swtrain itself: `events.out.tfevents.<time>.<host>.<pid>`
/// beside metrics.jsonl, so `tensorboard --logdir runs/` shows a run's curves.
///
/// The file is a TFRecord stream of `tensorflow.Event` protocol buffers, encoded here by hand:
/// ```
/// record: u64 length (LE) · u32 masked CRC-32C of the length bytes · data · u32 masked CRC-32C of data
/// masked(c) = ((c >> 15) | (c << 17)) + 0xA282EAD8
/// Event   { 1: double wall_time, 2: int64 step, 3: string file_version, 5: Summary summary }
/// Summary { 1: repeated Value value };  Value { 1: string tag, 2: float simple_value }
/// ```
/// The first record is the `file_version` event "brain.Event:2". Rank 0 writes; each record is
/// flushed as written.
final class TensorBoardWriter {
    private let handle: FileHandle
    let path: String

    init(directory: String) throws {
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count) == 0 ? String(cString: name) : "host"
        path = directory + "/events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host).\(getpid())"
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let h = FileHandle(forWritingAtPath: path) else {
            throw RuntimeError("\(path): cannot create the TensorBoard event file\n  hint: check the permissions of the run folder, or set monitor.tensorboard false")
        }
        handle = h
        var event = ProtoWriter()
        event.double(1, Date().timeIntervalSince1970)
        event.string(3, "brain.Event:2")
        handle.write(Data(Self.record(event.bytes)))
    }

    /// One event at `step` holding `scalars` (tag, value).
    func write(step: Int, _ scalars: [(String, Double)]) {
        var summary = ProtoWriter()
        for (tag, value) in scalars where value.isFinite {
            var v = ProtoWriter()
            v.string(1, tag)
            v.float(2, Float(value))
            summary.message(1, v.bytes)
        }
        var event = ProtoWriter()
        event.double(1, Date().timeIntervalSince1970)
        event.int(2, Int64(step))
        event.message(5, summary.bytes)
        handle.write(Data(Self.record(event.bytes)))
    }

    deinit { try? handle.close() }

    /// The TFRecord framing of `data`.
    static func record(_ data: [UInt8]) -> [UInt8] {
        var length: [UInt8] = []
        for i in 0..<8 { length.append(UInt8(truncatingIfNeeded: UInt64(data.count) >> (8 * UInt64(i)))) }
        return length + le32(maskedCRC(length)) + data + le32(maskedCRC(data))
    }

    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }

    static func maskedCRC(_ data: [UInt8]) -> UInt32 {
        let c = CRC32C.checksum(data)
        return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }
}

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven.
enum CRC32C {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    static func checksum(_ data: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in data { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

/// The few protocol-buffer encodings an Event needs (wire types 0, 1, 2, 5).
struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }

    mutating func key(_ field: Int, _ wire: Int) { varint(UInt64(field << 3 | wire)) }

    mutating func int(_ field: Int, _ v: Int64) { key(field, 0); varint(UInt64(bitPattern: v)) }

    mutating func double(_ field: Int, _ v: Double) {
        key(field, 1)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt64(i)))) }
    }

    mutating func float(_ field: Int, _ v: Float) {
        key(field, 5)
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt32(i)))) }
    }

    mutating func message(_ field: Int, _ data: [UInt8]) { key(field, 2); varint(UInt64(data.count)); bytes += data }

    mutating func string(_ field: Int, _ s: String) { message(field, Array(s.utf8)) }
}
