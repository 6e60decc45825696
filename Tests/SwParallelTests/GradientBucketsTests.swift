import Testing
import SwParallel

@Suite struct GradientBucketsTests {
    /// Buckets are adjacent, non-empty, ordered from the end of the buffer to its start, and
    /// cover every element exactly once.
    func expectCovers(_ b: GradientBuckets) {
        #expect(b.ranges.allSatisfy { !$0.isEmpty })
        #expect(b.ranges.first?.upperBound ?? 0 == b.count)
        #expect(b.ranges.last?.lowerBound ?? 0 == 0)
        for (later, earlier) in zip(b.ranges, b.ranges.dropFirst()) {
            #expect(earlier.upperBound == later.lowerBound)
        }
        #expect(b.ranges.reduce(0) { $0 + $1.count } == b.count)
    }

    @Test func layoutFromTheEndWithSmallFirstBucket() {
        // 10 MiB of floats, 4 MiB buckets, 1 MiB first bucket: 1 + 4 + 4 + 1 (rest).
        let mib = 1 << 18                        // floats per MiB
        let b = GradientBuckets(count: 10 * mib, bucketMB: 4, firstBucketMB: 1)
        #expect(b.ranges == [9 * mib ..< 10 * mib, 5 * mib ..< 9 * mib, mib ..< 5 * mib, 0 ..< mib])
        #expect(b.bucketCount == 4)
        expectCovers(b)
    }

    @Test func bytesInitAndRemainder() {
        let b = GradientBuckets(count: 103, bucketBytes: 40, firstBucketBytes: 8)
        #expect(b.ranges.map(\.count) == [2, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 1])
        expectCovers(b)
    }

    @Test func firstBucketIsClampedToBucketSize() {
        let b = GradientBuckets(count: 100, bucketBytes: 80, firstBucketBytes: 4000)
        #expect(b.ranges.map(\.count) == [20, 20, 20, 20, 20])
        expectCovers(b)
    }

    @Test func smallModelIsOneBucket() {
        let b = GradientBuckets(count: 5000)     // defaults: 25 MiB, first 1 MiB
        #expect(b.ranges == [0 ..< 5000])
    }

    @Test func emptyBuffer() {
        let b = GradientBuckets(count: 0, bucketMB: 1)
        #expect(b.ranges.isEmpty)
    }

    @Test(arguments: [1, 7, 1000, 262_144, 262_145, 3_000_001])
    func coverageForManySizes(count: Int) {
        for (mb, first) in [(0.001, 0.0005), (0.25, 0.0625), (4, 1), (25, 1)] {
            expectCovers(GradientBuckets(count: count, bucketMB: mb, firstBucketMB: first))
        }
    }

    /// Every rank computes the layout from the same numbers, so it is a pure function of them.
    @Test func deterministic() {
        let a = GradientBuckets(count: 1_234_567, bucketMB: 0.5, firstBucketMB: 0.1)
        let b = GradientBuckets(count: 1_234_567, bucketMB: 0.5, firstBucketMB: 0.1)
        #expect(a == b)
    }
}
