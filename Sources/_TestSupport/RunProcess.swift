import Foundation

/// Runs `executable` with `arguments` (in `cwd` when given) to its end and returns its exit
/// status and what it printed. Output goes through pipes read after the child starts (stdout
/// to its end, then stderr), so it suits short-running children with modest stderr; for
/// long or multi-rank runs use `MPIRun`, which writes the output to files.
public func runProcess(_ executable: String, _ arguments: [String], cwd: String? = nil) throws
    -> (status: Int32, stdout: String, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}
