#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `text` to file descriptor 2 unbuffered, after flushing C's buffered streams.
func writeToStandardError(_ text: String) {
    fflush(nil)
    var bytes = Array(text.utf8)
    bytes.withUnsafeMutableBytes { raw in
        var done = 0
        while done < raw.count {
            let n = write(2, raw.baseAddress! + done, raw.count - done)
            if n <= 0 { break }
            done += n
        }
    }
}

/// Set-up and metrics helpers built on the protocol's buffer calls. These allocate (arrays,
/// fresh requests); the training step uses the buffer forms.
extension Communicator {
    /// Starts an in-place all-reduce into a fresh request.
    public func startAllReduce(_ buffer: UnsafeMutableBufferPointer<Float>, op: ReduceOp) throws -> CommRequest {
        let request = CommRequest()
        try startAllReduce(buffer, op: op, into: request)
        return request
    }

    /// Starts a send into a fresh request.
    public func isend(_ buffer: UnsafeBufferPointer<Float>, to destination: Int, tag: Int) throws -> CommRequest {
        let request = CommRequest()
        try isend(buffer, to: destination, tag: tag, into: request)
        return request
    }

    /// Starts a receive into a fresh request.
    public func irecv(_ buffer: UnsafeMutableBufferPointer<Float>, from source: Int, tag: Int) throws -> CommRequest {
        let request = CommRequest()
        try irecv(buffer, from: source, tag: tag, into: request)
        return request
    }

    /// Reduces one double across ranks (a squared norm, a loss total).
    public func allReduce(_ value: Double, op: ReduceOp) throws -> Double {
        var v = value
        try withUnsafeMutablePointer(to: &v) { try allReduce(UnsafeMutableBufferPointer(start: $0, count: 1), op: op) }
        return v
    }

    /// Reduces one integer across ranks (a sample counter).
    public func allReduce(_ value: Int64, op: ReduceOp) throws -> Int64 {
        var v = value
        try withUnsafeMutablePointer(to: &v) { try allReduce(UnsafeMutableBufferPointer(start: $0, count: 1), op: op) }
        return v
    }

    /// Reduces an array of doubles in place.
    public func allReduce(_ values: inout [Double], op: ReduceOp) throws {
        try values.withUnsafeMutableBufferPointer { try allReduce($0, op: op) }
    }

    /// Reduces an array of integers in place.
    public func allReduce(_ values: inout [Int64], op: ReduceOp) throws {
        try values.withUnsafeMutableBufferPointer { try allReduce($0, op: op) }
    }

    /// Reduces an array of floats in place.
    public func allReduce(_ values: inout [Float], op: ReduceOp) throws {
        try values.withUnsafeMutableBufferPointer { try allReduce($0, op: op) }
    }

    /// Every rank's `value`, rank 0 first (per-rank step times, seeds, counts).
    public func allGather(_ value: Int64) throws -> [Int64] {
        var mine = value
        var all = [Int64](repeating: 0, count: size)
        try withUnsafePointer(to: &mine) { p in
            try all.withUnsafeMutableBufferPointer {
                try allGather(UnsafeBufferPointer(start: p, count: 1), into: $0)
            }
        }
        return all
    }

    /// Every rank's `bytes`, rank 0 first (config hashes, host names). Ranks may pass different
    /// lengths only by mistake: that throws a `CommError` naming the lengths, on every rank.
    public func allGather(bytes: [UInt8]) throws -> [[UInt8]] {
        let lengths = try allGather(Int64(bytes.count))
        if let odd = lengths.firstIndex(where: { $0 != lengths[0] }) {
            throw CommError(rank: worldRank, operation: "allGather(bytes:)",
                            message: "ranks passed different lengths: rank 0 has \(lengths[0]) bytes, "
                                + "rank \(odd) has \(lengths[odd]); every rank must pass the same count")
        }
        var all = [UInt8](repeating: 0, count: bytes.count * size)
        try bytes.withUnsafeBytes { mine in
            try all.withUnsafeMutableBytes { try allGather(mine, into: $0) }
        }
        return (0..<size).map { Array(all[$0 * bytes.count ..< ($0 + 1) * bytes.count]) }
    }

    /// Prints `swtrain: error: rank R: <error>` on stderr and ends the whole job with `code`.
    ///
    /// This is how a failing rank takes the job down within seconds instead of leaving the
    /// others blocked in a collective.
    public func fail(_ error: any Error, code: Int32 = 1) -> Never {
        let text: String
        if let comm = error as? CommError {
            text = "swtrain: error: \(comm)\n"
        } else {
            text = "swtrain: error: rank \(worldRank): \(error)\n"
        }
        writeToStandardError(text)
        abort(code: code)
    }
}
