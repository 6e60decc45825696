import CMPI

/// A handle on a non-blocking operation (`startAllReduce`, `isend`, `irecv`).
///
/// A request is reusable: `DataParallelSync` allocates one per gradient bucket at set-up and
/// passes it back to `startAllReduce(_:op:into:)` every step, so the steady-state step makes no
/// allocation. A fresh `CommRequest()` is complete; starting an operation into it makes it
/// active until `test()` returns true or `wait()` returns.
///
/// MPI makes progress on a non-blocking collective only inside MPI calls: poll `test()` while
/// doing other work (between layers' backward), then `wait()`.
///
/// The buffer given to the operation must stay alive and untouched until the request is
/// complete. Completing a request is the caller's duty; dropping an active one leaves MPI
/// writing into a buffer nobody waits for.
public final class CommRequest {
    /// The MPI handle; `MPI_REQUEST_NULL` when complete or never started (local backends).
    var handle: MPI_Request?
    /// The world rank of the owner, for error messages.
    var rank: Int = -1
    /// What was started, for error messages (a string literal: no allocation).
    var operation: StaticString = "none"
    /// The element count and world ranks of the communicator, for the watchdog's report.
    var elements = 0
    var members: [Int] = []
    /// What this request serves, for the watchdog's report: `"gradient bucket"`, index, count.
    var purpose: StaticString = ""
    var purposeIndex = -1
    var purposeCount = 0

    /// A complete request (nothing in flight).
    public init() {
        handle = swt_mpi_request_null()
    }

    /// Names what this request serves (`describe("gradient bucket", index: 2, of: 5)`): a
    /// watchdog report about a wait on it says so. Set once at set-up.
    public func describe(_ purpose: StaticString, index: Int, of count: Int) {
        self.purpose = purpose
        self.purposeIndex = index
        self.purposeCount = count
    }

    /// True while an operation started into this request has not been seen complete.
    public var isActive: Bool { handle != swt_mpi_request_null() }

    /// Drives MPI progress and returns true when the operation is complete (and then always).
    public func test() throws -> Bool {
        if !isActive { return true }
        var flag: Int32 = 0
        let rc = MPI_Test(&handle, &flag, swt_mpi_status_ignore())
        try MPIError.check(rc, rank: rank, operation: "MPI_Test (\(operation))")
        return flag != 0
    }

    /// Blocks until the operation is complete; returns at once if it already is.
    public func wait() throws {
        if !isActive { return }
        let rc = CommWatchdog.shared.watch(operation, elements, "floats", members: members, request: self) {
            MPI_Wait(&handle, swt_mpi_status_ignore())
        }
        try MPIError.check(rc, rank: rank, operation: "MPI_Wait (\(operation))")
    }

    /// Stops the caller from starting a second operation into a request still in flight.
    func precheckReuse(for next: StaticString) {
        precondition(!isActive,
                     "CommRequest reused for \(next) while \(operation) is still in flight; wait() first")
    }

    /// Marks this request active on `handle` (used by `MPICommunicator`).
    func activate(_ started: MPI_Request?, rank: Int, operation: StaticString, elements: Int, members: [Int]) {
        self.handle = started
        self.elements = elements
        self.members = members
        self.rank = rank
        self.operation = operation
    }
}
