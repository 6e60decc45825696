/// A communication failure, naming the rank that saw it, the operation and MPI's own message.
///
/// MPI calls run with `MPI_ERRORS_RETURN` on every communicator swtrain creates, so an MPI
/// failure comes back as this error instead of killing the process without a word. Most
/// communication errors leave the job unusable: the usual answer is to print the error and
/// call `Communicator.abort(code:)` (see `Communicator.fail(_:code:)`), which ends every rank.
///
/// `description` reads `rank 3: MPI_Allreduce (sum, 1048576 floats): MPI_ERR_TRUNCATE: message truncated`.
public struct CommError: Error, Sendable, CustomStringConvertible {
    /// The rank (in the world communicator) that saw the failure; -1 before MPI is up.
    public let rank: Int
    /// The operation and its arguments, e.g. `"MPI_Send (to 2, tag 7, 100 floats)"`.
    public let operation: String
    /// MPI's error class text (`MPI_Error_string`), or our own reason for non-MPI failures.
    public let message: String
    /// The MPI return code, when the failure came from MPI.
    public let code: Int32?

    public init(rank: Int, operation: String, message: String, code: Int32? = nil) {
        self.rank = rank
        self.operation = operation
        self.message = message
        self.code = code
    }

    public var description: String {
        "rank \(rank): \(operation): \(message)"
    }
}
