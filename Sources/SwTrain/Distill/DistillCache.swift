import Foundation
import SwComm
import SwData
import SwNN
import SwTensor

/// `distill.cache_logits`: the teacher's outputs for every training sample, computed once at
/// set-up and read by sample index on every step instead of running the teacher.
///
/// Each rank runs the teacher (eval mode) over its share of the samples, `ceil(N / ranks)`
/// consecutive ones, in chunks of the trainer's micro-batch rows; one all-gather then gives
/// every rank the whole table `[N, output...]`. The teacher's output for a sample does not
/// depend on the step, the epoch or the other rows of the batch, so the student trains to the
/// same values as without the cache (DistillCacheTests checks the bits).
public final class DistillCache {
    /// The outputs, `[N] + output shape`, sample order.
    public let logits: Tensor
    /// Output elements per sample.
    public let rowElements: Int
    /// Seconds the build took on this rank (teacher forward and all-gather).
    public let seconds: Double

    /// Runs `teacher` over `data` (this rank's share) and gathers the table over `comm`.
    /// Collective: every rank of `comm` must call it.
    public init(teacher: Model, data: any Dataset, comm: any Communicator, chunkRows: Int) throws {
        let t0 = monotonicSeconds()
        let n = data.count, ranks = comm.size
        let probe = teacher.forward(Tensor(zeros: [1] + data.sampleShape), training: false)
        let outShape = Array(probe.shape.dropFirst())
        rowElements = Tensor.elementCount(outShape)
        let share = (n + ranks - 1) / ranks
        let shareBytes = share * rowElements * MemoryLayout<Float>.stride
        guard shareBytes <= Int(Int32.max) else {
            throw RuntimeError("distill.cache_logits: each rank's share of the teacher's outputs is \(shareBytes) bytes "
                               + "(\(share) samples x \(rowElements) outputs), above MPI's 2 GiB per message\n"
                               + "  hint: run more ranks or set distill.cache_logits to false")
        }
        // Padded to `share` rows per rank so the all-gather moves equal counts.
        let table = Tensor(zeros: [share * ranks] + outShape)
        let chunk = max(1, chunkRows)
        let x = Tensor(zeros: [chunk] + data.sampleShape)
        let y = Tensor(zeros: [chunk] + data.targetShape)
        var indices = [Int](repeating: 0, count: chunk)
        let first = comm.rank * share, end = min(n, first + share)
        var at = first
        while at < end {
            let rows = min(chunk, end - at)
            for i in 0..<rows { indices[i] = at + i }
            if x.rows != rows {
                x.reshape([rows] + data.sampleShape)
                y.reshape([rows] + data.targetShape)
            }
            indices.withUnsafeBufferPointer { data.gather(UnsafeBufferPointer(rebasing: $0[0..<rows]), inputs: x, targets: y) }
            let z = teacher.forward(x, training: false)
            (table.pointer + at * rowElements).update(from: z.pointer, count: rows * rowElements)
            at += rows
        }
        if ranks > 1 {
            let mine = UnsafeRawBufferPointer(start: table.pointer + first * rowElements, count: shareBytes)
            // MPI_Allgather with the send buffer inside the receive buffer is not allowed: copy it out.
            let own = [UInt8](mine)
            try own.withUnsafeBytes { src in
                try comm.allGather(src, into: UnsafeMutableRawBufferPointer(start: table.pointer, count: shareBytes * ranks))
            }
        }
        if table.rows != n { table.reshape([n] + outShape) }
        logits = table
        seconds = monotonicSeconds() - t0
    }

    /// Copies the rows of `indices` into `out` (`[indices.count] + output shape`).
    func gather(_ indices: UnsafeBufferPointer<Int>, into out: Tensor) {
        let src = logits.pointer, dst = out.pointer, k = rowElements
        for (i, s) in indices.enumerated() {
            (dst + i * k).update(from: src + s * k, count: k)
        }
    }
}
