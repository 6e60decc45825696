import CMPI

/// Turns MPI return codes into `CommError`s carrying `MPI_Error_string`'s text.
enum MPIError {
    /// Throws when `rc` is not `MPI_SUCCESS`. `operation` is only built on failure.
    @inline(__always)
    static func check(_ rc: Int32, rank: Int, operation: @autoclosure () -> String) throws {
        if rc == swt_mpi_success() { return }
        throw CommError(rank: rank, operation: operation(), message: text(rc), code: rc)
    }

    /// MPI's description of an error code, e.g. `"MPI_ERR_RANK: invalid rank"`.
    static func text(_ rc: Int32) -> String {
        var chars = [CChar](repeating: 0, count: Int(swt_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        let ok = chars.withUnsafeMutableBufferPointer { MPI_Error_string(rc, $0.baseAddress, &length) }
        if ok != swt_mpi_success() { return "MPI error code \(rc)" }
        let bytes = chars.prefix(Int(length)).map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
