import Testing
@testable import SwComm

/// The watchdog's report names the step, the call with its size, what the request serves, and
/// the ranks not heard from: the one peer of a point-to-point call, the only other member of a
/// two-rank collective, or every other member of a larger one (MPI cannot tell which).
struct WatchdogReportTests {
    static func call(_ op: StaticString, peer: Int = -1, tag: Int = -1, members: [Int],
                     purpose: StaticString = "", index: Int = -1, count: Int = 0) -> CommWatchdog.Call {
        var c = CommWatchdog.Call()
        c.inside = true
        c.operation = op
        c.elements = 1024
        c.unit = "floats"
        c.peer = peer
        c.tag = tag
        c.members = members
        c.purpose = purpose
        c.purposeIndex = index
        c.purposeCount = count
        return c
    }

    @Test func bucketWaitOnTwoRanks() {
        let text = CommWatchdog.report(call: Self.call("MPI_Iallreduce", members: [0, 1], purpose: "gradient bucket", index: 1, count: 4),
                                       rank: 0, step: 7, phase: ("", -1, -1), waited: 3.04, timeout: 3, configKey: "parallel.timeout_s")
        #expect(text.hasPrefix("swtrain: error: rank 0: watchdog: no progress for 3.0 s (parallel.timeout_s = 3) at step 7 "
                               + "waiting in MPI_Iallreduce (1024 floats, gradient bucket 2 of 4) on a communicator of 2 ranks "
                               + "(world ranks 0, 1); not heard from: rank 1 (the only other member)\n"), "\(text)")
        #expect(text.contains("MPI_Abort, exit 1"))
    }

    @Test func receiveNamesTheWorldRankOfThePeer() {
        // A sub-communicator of world ranks 2 and 5: peer 1 there is world rank 5.
        let text = CommWatchdog.report(call: Self.call("MPI_Recv", peer: 1, tag: 3, members: [2, 5]),
                                       rank: 2, step: 4, phase: ("", -1, -1), waited: 10, timeout: 10, configKey: "parallel.timeout_s")
        #expect(text.contains("waiting in MPI_Recv (1024 floats, from rank 5, tag 3)"), "\(text)")
        #expect(text.contains("not heard from: rank 5\n"), "\(text)")
    }

    @Test func largerCollectiveListsTheOtherMembersAndThePhase() {
        let text = CommWatchdog.report(call: Self.call("MPI_Allreduce", members: [0, 1, 2, 3]), rank: 2, step: 9,
                                       phase: ("gradient buckets", 2, 4), waited: 60.2, timeout: 60, configKey: "parallel.timeout_s")
        #expect(text.contains("MPI_Allreduce (1024 floats, gradient buckets 3...5)"), "\(text)")
        #expect(text.contains("not heard from: at least one of ranks 0, 1, 3 "), "\(text)")
    }
}
