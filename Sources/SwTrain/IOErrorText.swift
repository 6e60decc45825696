import Foundation

/// The cause of a Foundation file error in words ("No space left on device"), instead of the
/// "The operation could not be completed. (NSCocoaErrorDomain error 256.)" Linux gives: the
/// underlying POSIX error when there is one, else the Cocoa code's meaning.
public func ioErrorText(_ error: any Error) -> String {
    let ns = error as NSError
    var e: NSError? = ns
    while let current = e {
        if current.domain == NSPOSIXErrorDomain, let code = Int32(exactly: current.code) {
            return String(cString: strerror(code))
        }
        e = current.userInfo[NSUnderlyingErrorKey] as? NSError
    }
    if ns.domain == NSCocoaErrorDomain {
        switch ns.code {
        case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return "no such file or folder"
        case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: return "permission denied"
        case NSFileWriteOutOfSpaceError: return "no space left on device"
        case NSFileWriteVolumeReadOnlyError: return "read-only file system"
        case NSFileWriteFileExistsError: return "a file of that name exists"
        default: break
        }
    }
    return ns.localizedDescription
}

/// A file-system failure with the POSIX cause (`strerror`), for small files the trainer writes
/// beside the checkpoints, where Foundation on Linux reports only "NSCocoaErrorDomain error 512".
public struct FileSystemError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let operation: String
    public let cause: String
    public var description: String { "\(path): cannot \(operation): \(cause)" }
}

/// Creates `path` and its missing parents (mode 0755); an existing folder is fine.
public func createDirectories(_ path: String) throws {
    var built = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") {
        built += "/" + part
        if mkdir(built, 0o755) != 0 && errno != EEXIST {
            throw FileSystemError(path: built, operation: "create the folder", cause: String(cString: strerror(errno)))
        }
        var s = stat()
        if stat(built, &s) != 0 || (s.st_mode & S_IFMT) != S_IFDIR {
            throw FileSystemError(path: built, operation: "create the folder", cause: "a file of that name exists")
        }
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, written in full and
/// fsynced, then renamed over `path`. A failure (a full disk, say) leaves `path` as it was.
public func writeFileAtomically(_ bytes: [UInt8], to path: String) throws {
    let temporary = path + ".tmp-\(getpid())"
    func fail(_ operation: String) -> FileSystemError {
        let cause = String(cString: strerror(errno))
        unlink(temporary)
        return FileSystemError(path: path, operation: operation, cause: cause)
    }
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw fail("write") }
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { close(fd); throw fail("write") }
        done += n
    }
    guard fsync(fd) == 0 else { close(fd); throw fail("write") }
    guard close(fd) == 0 else { throw fail("write") }
    guard rename(temporary, path) == 0 else { throw fail("write") }
}

/// Why `path` cannot be read, in POSIX words, for readers that got only nil from Foundation
/// (`FileManager.contents(atPath:)`): "is a directory", "Permission denied", or strerror of a
/// failing read.
public func posixCause(_ path: String) -> String {
    var st = stat()
    if stat(path, &st) != 0 { return String(cString: strerror(errno)) }
    if (st.st_mode & S_IFMT) == S_IFDIR { return "it is a directory" }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return String(cString: strerror(errno)) }
    defer { close(fd) }
    var byte: UInt8 = 0
    if read(fd, &byte, 1) < 0 { return String(cString: strerror(errno)) }
    return "the read failed"
}
