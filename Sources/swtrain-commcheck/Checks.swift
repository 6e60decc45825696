import SwComm
import SwParallel
import SwTensor

/// A check that saw a wrong value.
struct CheckFailure: Error, CustomStringConvertible {
    let description: String
}

/// Throws naming `what` unless `actual == expected`.
func expectEqual<T: Equatable>(_ actual: T, _ expected: T, _ what: @autoclosure () -> String) throws {
    if actual != expected {
        throw CheckFailure(description: "\(what()): expected \(expected), got \(actual)")
    }
}

/// Compares two float sequences exactly (every test value is an exactly representable sum).
func expectEqualFloats(_ actual: UnsafeBufferPointer<Float>, _ expected: (Int) -> Float, _ what: String) throws {
    for i in actual.indices where actual[i] != expected(i) {
        throw CheckFailure(description: "\(what): element \(i): expected \(expected(i)), got \(actual[i])")
    }
}

/// Runs every check; rank 0 prints `ok <name>` after each (all ranks agree by then).
func runChecks(_ comm: any Communicator, failRank: Int?) throws {
    let r = comm.rank, p = comm.size
    func ok(_ name: String) throws {
        try comm.barrier()
        if r == 0 { print("ok \(name)") }
    }

    if let failRank {
        if r == failRank {
            throw CheckFailure(description: "injected failure (--fail-rank \(failRank))")
        }
        // The other ranks block here until the failing rank's MPI_Abort ends the job.
        try comm.barrier()
        throw CheckFailure(description: "barrier returned although rank \(failRank) failed")
    }

    // allReduce sum and max on floats: integer values, so sums are exact in any order.
    var v = (0..<1000).map { Float(r + 1) + Float($0) * 0.5 }
    try comm.allReduce(&v, op: .sum)
    let rankSum = Float(p * (p + 1) / 2)
    try v.withUnsafeBufferPointer { try expectEqualFloats($0, { rankSum + Float(p) * Float($0) * 0.5 }, "allReduce sum") }
    var m = (0..<1000).map { Float((r * 7 + $0) % 13) }
    try comm.allReduce(&m, op: .max)
    try m.withUnsafeBufferPointer {
        try expectEqualFloats($0, { i in (0..<p).map { Float(($0 * 7 + i) % 13) }.max()! }, "allReduce max")
    }
    try ok("allreduce-float")

    // Doubles and Int64 scalars and arrays (norms, counters).
    try expectEqual(try comm.allReduce(Double(r) + 0.25, op: .sum), Double(p * (p - 1) / 2) + 0.25 * Double(p), "allReduce Double sum")
    try expectEqual(try comm.allReduce(Int64(r * 3), op: .max), Int64((p - 1) * 3), "allReduce Int64 max")
    var counters: [Int64] = [Int64(r), 1, Int64(1) << 40]
    try comm.allReduce(&counters, op: .sum)
    try expectEqual(counters, [Int64(p * (p - 1) / 2), Int64(p), Int64(p) << 40], "allReduce Int64 array")
    try ok("allreduce-double-int64")

    // Async allReduce with test() polling.
    var a = [Float](repeating: Float(r), count: 4096)
    try a.withUnsafeMutableBufferPointer { buf in
        let request = try comm.startAllReduce(buf, op: .sum)
        var polls = 0
        while try !request.test() { polls += 1 }
        try request.wait()
    }
    try a.withUnsafeBufferPointer { try expectEqualFloats($0, { _ in Float(p * (p - 1) / 2) }, "startAllReduce") }
    try ok("allreduce-async")

    // Broadcast floats from the last rank, bytes from rank 0.
    var b = [Float](repeating: r == p - 1 ? 42 : -1, count: 333)
    try b.withUnsafeMutableBufferPointer { try comm.broadcast($0, root: p - 1) }
    try b.withUnsafeBufferPointer { try expectEqualFloats($0, { _ in 42 }, "broadcast floats") }
    var bytes: [UInt8] = r == 0 ? Array("swtrain".utf8) : [UInt8](repeating: 0, count: 7)
    try bytes.withUnsafeMutableBytes { try comm.broadcast($0, root: 0) }
    try expectEqual(String(decoding: bytes, as: UTF8.self), "swtrain", "broadcast bytes")
    try ok("broadcast")

    // allGather of Int64 and of bytes (e.g. config hashes).
    try expectEqual(try comm.allGather(Int64(r * 10)), (0..<p).map { Int64($0 * 10) }, "allGather Int64")
    let gathered = try comm.allGather(bytes: [UInt8(r), 0xAB, UInt8(p)])
    try expectEqual(gathered, (0..<p).map { [UInt8($0), 0xAB, UInt8(p)] }, "allGather bytes")
    try ok("allgather")

    // Point to point: a ring with isend/irecv, then pairs with blocking send/recv.
    if p > 1 {
        let next = (r + 1) % p, prev = (r + p - 1) % p
        let out = [Float](repeating: Float(r), count: 1024)
        var inbox = [Float](repeating: -1, count: 1024)
        try out.withUnsafeBufferPointer { o in
            try inbox.withUnsafeMutableBufferPointer { i in
                let rq = try comm.irecv(i, from: prev, tag: 7)
                let sq = try comm.isend(o, to: next, tag: 7)
                try sq.wait()
                try rq.wait()
            }
        }
        try inbox.withUnsafeBufferPointer { try expectEqualFloats($0, { _ in Float(prev) }, "ring isend/irecv") }
        var pair = [Float](repeating: Float(r * 100), count: 10)
        if r % 2 == 0 && r + 1 < p {
            try pair.withUnsafeBufferPointer { try comm.send($0, to: r + 1, tag: 3) }
        } else if r % 2 == 1 {
            try pair.withUnsafeMutableBufferPointer { try comm.recv($0, from: r - 1, tag: 3) }
            try pair.withUnsafeBufferPointer { try expectEqualFloats($0, { _ in Float((r - 1) * 100) }, "send/recv") }
        }
        try ok("send-recv")
    }

    // split: even and odd ranks, ordered by descending rank.
    let sub = try comm.split(color: r % 2, key: -r)
    let members = (0..<p).filter { $0 % 2 == r % 2 }
    try expectEqual(sub.size, members.count, "split size")
    try expectEqual(sub.rank, members.reversed().firstIndex(of: r)!, "split rank (key = -rank)")
    try expectEqual(try sub.allReduce(Int64(r), op: .sum), Int64(members.reduce(0, +)), "split allReduce")
    try ok("split")

    // MPI failures come back as CommError with MPI's text (MPI_ERRORS_RETURN), not a crash.
    if p > 1 {
        do {
            let f: [Float] = [1]
            try f.withUnsafeBufferPointer { try comm.send($0, to: p + 5, tag: 0) }
            throw CheckFailure(description: "send to rank \(p + 5) did not throw")
        } catch let error as CommError {
            try expectEqual(error.rank, comm.worldRank, "CommError.rank")
            try expectEqual(error.message.contains("MPI_ERR_RANK"), true, "CommError message '\(error.message)'")
            try expectEqual(error.operation.hasPrefix("MPI_Send (to \(p + 5)"), true, "CommError operation '\(error.operation)'")
        }
        try ok("errors-return")
    }

    try checkBucketSync(comm, average: false)
    try checkBucketSync(comm, average: true)
    try ok("bucket-sync")

    try checkSharedMemory(comm)
    try ok("shared-memory")

    if r == 0 { print("commcheck: all checks passed on \(p) ranks") }
}

/// Simulates backward over a 300k-element gradient with small buckets: marks layers ready
/// from the end, polls in between, finishes, and compares with the sum computed locally.
func checkBucketSync(_ comm: any Communicator, average: Bool) throws {
    let n = 300_000
    let p = comm.size
    let grads = Tensor(zeros: [n])
    func value(_ rank: Int, _ i: Int) -> Float { Float((i % 97) + rank * 3) }
    let sync = DataParallelSync(gradients: grads, communicator: comm,
                                bucketMB: 0.25, firstBucketMB: 0.0625, average: average)
    // The layout must be the same on every rank: gather a fingerprint of it.
    var fingerprint = Int64(sync.layout.bucketCount)
    for range in sync.layout.ranges { fingerprint = fingerprint &* 1_000_003 &+ Int64(range.lowerBound) }
    let all = try comm.allGather(fingerprint)
    try expectEqual(Set(all).count, 1, "bucket layout identical on every rank")

    for step in 0..<3 {
        // "Backward": layers of 37_000 elements from the end; each writes its gradients, then
        // declares them final.
        var offset = n
        while offset > 0 {
            let lower = max(0, offset - 37_000)
            for i in lower..<offset { grads.pointer[i] = value(comm.rank, i) + Float(step) }
            try sync.markReady(upTo: lower)
            try sync.poll()
            offset = lower
        }
        try sync.finish()
        let rankTerm = Float(3 * p * (p - 1) / 2)
        let scale: Float = average && p > 1 ? 1 / Float(p) : 1
        try expectEqualFloats(UnsafeBufferPointer(grads.buffer), { i in
            (Float(p) * (Float(i % 97) + Float(step)) + rankTerm) * scale
        }, "bucket sync (average: \(average), step \(step))")
    }
    let expectedBytes = p > 1 ? 3 * n * 4 : 0
    try expectEqual(sync.metrics.bytesReduced, expectedBytes, "bytes reduced")
    try expectEqual(sync.metrics.steps, 3, "steps")
}

/// Node-shared memory: every rank of the node sees every segment (odd sizes, one rank
/// contributing nothing), and `SharedMemorySync` partitions the buffer into line-aligned
/// shards covering it exactly.
func checkSharedMemory(_ comm: any Communicator) throws {
    let node = try comm.splitByNode()
    try expectEqual(node.size, comm.size, "splitByNode size (all ranks of this test share one node)")
    let sizes = (0..<node.size).map { $0 == 1 ? 0 : 1000 + 37 * $0 }
    let mem = try node.allocateShared(bytes: sizes[node.rank] * MemoryLayout<Float>.stride)
    let mine = mem.floats(of: node.rank, count: sizes[node.rank])
    for i in mine.indices { mine[i] = Float(node.rank * 10_000 + i) }
    try mem.synchronize(); try node.barrier(); try mem.synchronize()
    for q in 0..<node.size where sizes[q] > 0 {
        let theirs = mem.floats(of: q, count: sizes[q])
        try expectEqualFloats(UnsafeBufferPointer(theirs), { Float(q * 10_000 + $0) }, "rank \(q)'s shared segment seen by rank \(node.rank)")
        try expectEqual(Int(bitPattern: theirs.baseAddress) % 64, 0, "segment \(q) 64-byte aligned")
    }
    try node.barrier()   // nobody frees while others read
    let sync = try SharedMemorySync(dataParallel: comm, count: 100_003, stateBuffers: 2)
    try expectEqual(sync.shards.first?.lowerBound, 0, "first shard start")
    try expectEqual(sync.shards.last?.upperBound, 100_003, "last shard end")
    for (a, b) in zip(sync.shards, sync.shards.dropFirst()) {
        try expectEqual(a.upperBound, b.lowerBound, "shards are contiguous")
        try expectEqual(a.upperBound % 16, 0, "shard boundary on a cache line")
    }
    try expectEqual(sync.crossNode == nil, true, "one node: no cross-node group")
}
