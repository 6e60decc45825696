/// How a flat gradient buffer is cut into contiguous all-reduce buckets (PyTorch DDP style).
///
/// Backward produces the last layers' gradients first, and the parameter store lays layers out
/// front to back, so buckets are cut from the END of the buffer backwards: bucket 0 is the
/// tail `[count - first, count)`, bucket 1 the `bucket` elements before it, and so on; the
/// last bucket (starting at offset 0) takes what is left and may be smaller. Bucket 0 is capped
/// at `firstBucketBytes` (1 MiB by default, like PyTorch's reducer) so the first all-reduce
/// starts early in backward.
///
/// ```
/// offset 0                                                      count
/// | bucket 3 (rest) |   bucket 2    |   bucket 1    | bucket 0 |
///                                       reduction order: 0, 1, 2, 3
/// ```
///
/// The layout depends only on `(count, bucketBytes, firstBucketBytes)`, so every rank that
/// passes the same numbers gets the same buckets, reduced in the same order.
public struct GradientBuckets: Equatable, Sendable {
    /// Bytes per MiB, the unit of `bucket_mb` (as PyTorch's `bucket_cap_mb`).
    public static let bytesPerMB = 1 << 20

    /// Elements in the whole buffer.
    public let count: Int
    /// Element ranges in reduction order: `ranges[0]` ends at `count`, the last starts at 0.
    /// Adjacent, non-empty, covering `0..<count` exactly; empty when `count == 0`.
    public let ranges: [Range<Int>]

    /// Buckets for `count` Float32 elements with a cap of `bucketBytes` per bucket and
    /// `firstBucketBytes` for bucket 0 (clamped to `bucketBytes`).
    public init(count: Int, bucketBytes: Int, firstBucketBytes: Int) {
        precondition(count >= 0, "gradient count must be >= 0, got \(count)")
        precondition(bucketBytes >= MemoryLayout<Float>.stride,
                     "bucket size must hold at least one float, got \(bucketBytes) bytes")
        precondition(firstBucketBytes >= MemoryLayout<Float>.stride,
                     "first bucket size must hold at least one float, got \(firstBucketBytes) bytes")
        let cap = bucketBytes / MemoryLayout<Float>.stride
        let firstCap = min(firstBucketBytes, bucketBytes) / MemoryLayout<Float>.stride
        var ranges: [Range<Int>] = []
        var upper = count
        while upper > 0 {
            let lower = max(0, upper - (ranges.isEmpty ? firstCap : cap))
            ranges.append(lower..<upper)
            upper = lower
        }
        self.count = count
        self.ranges = ranges
    }

    /// Buckets with caps in MiB (`parallel.bucket_mb` of the config). Defaults follow PyTorch:
    /// 25 MiB buckets, 1 MiB first bucket.
    public init(count: Int, bucketMB: Double = 25, firstBucketMB: Double = 1) {
        precondition(bucketMB > 0 && firstBucketMB > 0,
                     "bucket sizes must be > 0 MB, got bucketMB \(bucketMB), firstBucketMB \(firstBucketMB)")
        self.init(count: count,
                  bucketBytes: max(4, Int(bucketMB * Double(Self.bytesPerMB))),
                  firstBucketBytes: max(4, Int(firstBucketMB * Double(Self.bytesPerMB))))
    }

    /// Number of buckets.
    public var bucketCount: Int { ranges.count }
}
