import CMPI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process-wide MPI lifetime: initialise once, hand out the world, finalise at exit.
///
/// `world()` calls `MPI_Init_thread` with `MPI_THREAD_FUNNELED` the first time (later calls
/// return the same communicator), checks the level MPI provides, sets `MPI_ERRORS_RETURN` on
/// `MPI_COMM_WORLD` so failures become `CommError`s, and registers `finalize()` with `atexit`.
///
/// A program started without `mpirun` should not initialise MPI at all (it costs 0.07-0.3 s
/// and sets up a singleton environment): `makeWorldCommunicator()` returns an
/// `MPICommunicator` under `mpirun` and a `LocalCommunicator` otherwise.
///
/// Call from the main thread (FUNNELED: only the thread that initialised MPI may call it).
public enum MPIRuntime {
    /// True when this process was started by an MPI launcher (`mpirun`, `srun` with PMIx):
    /// `OMPI_COMM_WORLD_SIZE` or `PMIX_RANK` is in the environment.
    public static var isLaunchedByMPI: Bool {
        getenv("OMPI_COMM_WORLD_SIZE") != nil || getenv("PMIX_RANK") != nil
    }

    /// The world communicator under `mpirun`, a `LocalCommunicator` otherwise.
    public static func makeWorldCommunicator() throws -> any Communicator {
        isLaunchedByMPI ? try world() : LocalCommunicator()
    }

    /// True once `MPI_Init_thread` has run in this process (and until exit).
    public static var isInitialized: Bool {
        var flag: Int32 = 0
        MPI_Initialized(&flag)
        return flag != 0
    }

    /// True once `MPI_Finalize` has run: no MPI call is allowed after it.
    public static var isFinalized: Bool {
        var flag: Int32 = 0
        MPI_Finalized(&flag)
        return flag != 0
    }

    nonisolated(unsafe) private static var cachedWorld: MPICommunicator?

    /// `MPI_COMM_WORLD`, initialising MPI on the first call.
    public static func world() throws -> MPICommunicator {
        if let w = cachedWorld { return w }
        if isFinalized {
            throw CommError(rank: -1, operation: "MPI_Init_thread",
                            message: "MPI was already finalised in this process; it cannot start again")
        }
        if !isInitialized {
            var provided: Int32 = 0
            let rc = MPI_Init_thread(nil, nil, swt_mpi_thread_funneled(), &provided)
            try MPIError.check(rc, rank: -1, operation: "MPI_Init_thread (FUNNELED)")
            atexit { MPIRuntime.finalize() }
            if provided < swt_mpi_thread_funneled() {
                throw CommError(rank: -1, operation: "MPI_Init_thread",
                                message: "MPI provides thread level \(provided), swtrain needs "
                                    + "MPI_THREAD_FUNNELED (\(swt_mpi_thread_funneled()))")
            }
        }
        let comm: MPI_Comm = swt_mpi_comm_world()
        let rc = MPI_Comm_set_errhandler(comm, swt_mpi_errors_return())
        try MPIError.check(rc, rank: -1, operation: "MPI_Comm_set_errhandler (MPI_COMM_WORLD)")
        let w = try MPICommunicator(handle: comm, owned: false)
        cachedWorld = w
        return w
    }

    /// Finalises MPI if it was initialised and not yet finalised. Collective over the world:
    /// every rank must reach it (normal exit does, through `atexit`). Safe to call twice.
    public static func finalize() {
        guard isInitialized, !isFinalized else { return }
        cachedWorld = nil
        MPI_Finalize()
    }
}
