/// A failure while running (I/O, bad data, a diverged loss): exit code 1.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
