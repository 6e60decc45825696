import SwComm
import SwTensor

/// Each rank's clock offset from rank 0's, measured at start-up by MPI ping-pong (the NTP
/// estimate): rank 0 sends its time `t0`, rank r answers with its time `tr`, rank 0 reads `t2`
/// on return; `offset_r = tr − (t0 + t2) / 2`, kept from the round with the shortest round trip
/// (its error is at most half that round trip). A time `t` read on rank r is `t − offset_r` on
/// rank 0's clock. Rank 0 holds every offset; other ranks hold only their own slot's zero.
struct ClockOffsets: Sendable {
    /// Seconds, per rank (rank 0: 0). Valid on rank 0.
    var seconds: [Double]
    /// The shortest round trip of each rank, seconds (the bound on the offset's error ×2).
    var roundTrip: [Double]

    static let rounds = 8
    static let tag = 7_301

    /// Measures the offsets of every rank of `comm` (a collective; rank 0 pairs with each rank
    /// in turn). `clock` is the clock being aligned (the monitor's clock).
    static func measure(_ comm: any Communicator, clock: () -> Double) throws -> ClockOffsets {
        let n = comm.size
        var out = ClockOffsets(seconds: [Double](repeating: 0, count: n), roundTrip: [Double](repeating: 0, count: n))
        if n == 1 { return out }
        var message = [Float](repeating: 0, count: 2)
        if comm.rank == 0 {
            for r in 1..<n {
                var best = Double.infinity, bestOffset = 0.0
                for _ in 0..<rounds {
                    let t0 = clock()
                    try message.withUnsafeBufferPointer { try comm.send($0, to: r, tag: tag) }
                    try message.withUnsafeMutableBufferPointer { try comm.recv($0, from: r, tag: tag) }
                    let t2 = clock()
                    let tr = decode(message)
                    if t2 - t0 < best { best = t2 - t0; bestOffset = tr - (t0 + t2) / 2 }
                }
                out.seconds[r] = bestOffset
                out.roundTrip[r] = best
            }
        } else {
            for _ in 0..<rounds {
                try message.withUnsafeMutableBufferPointer { try comm.recv($0, from: 0, tag: tag) }
                message = encode(clock())
                try message.withUnsafeBufferPointer { try comm.send($0, to: 0, tag: tag) }
            }
        }
        return out
    }

    /// A time in seconds as two floats, `hi + lo` (hi rounds to ~8 ms at 1e5 s; lo keeps the
    /// rest to ~1 ns): the communicator's point-to-point calls carry floats.
    static func encode(_ t: Double) -> [Float] {
        let hi = Float(t)
        return [hi, Float(t - Double(hi))]
    }

    static func decode(_ m: [Float]) -> Double { Double(m[0]) + Double(m[1]) }
}
