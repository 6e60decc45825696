/// Communicators: MPI and local. (In progress.)
public enum SwComm {}
