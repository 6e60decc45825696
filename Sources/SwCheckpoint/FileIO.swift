#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin POSIX wrappers that turn `errno` into `CheckpointError.io` naming the path.
/// Checkpoint durability needs `fsync` on files and folders, which Foundation does not offer.
enum FileIO {
    static func error(_ path: String, _ operation: String) -> CheckpointError {
        .io(path: path, operation: operation, errno: errno)
    }

    /// Opens `path`, retrying on EINTR.
    static func openFile(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(CheckpointError) -> Int32 {
        while true {
            let fd = open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw error(path, "open") }
        }
    }

    /// Writes all `count` bytes, looping over short writes.
    static func writeAll(_ fd: Int32, _ base: UnsafeRawPointer?, _ count: Int, path: String) throws(CheckpointError) {
        var done = 0
        while done < count {
            let n = write(fd, base! + done, min(count - done, 1 << 30))
            if n < 0 {
                if errno == EINTR { continue }
                throw error(path, "write")
            }
            done += n
        }
    }

    /// Reads exactly `count` bytes into `base`; returns how many were read before end of file.
    static func readAll(_ fd: Int32, _ base: UnsafeMutableRawPointer, _ count: Int, path: String) throws(CheckpointError) -> Int {
        var done = 0
        while done < count {
            let n = read(fd, base + done, min(count - done, 1 << 30))
            if n < 0 {
                if errno == EINTR { continue }
                throw error(path, "read")
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// The size of an open file.
    static func fileSize(_ fd: Int32, path: String) throws(CheckpointError) -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw error(path, "fstat") }
        return Int(st.st_size)
    }

    static func sync(_ fd: Int32, path: String) throws(CheckpointError) {
        guard fsync(fd) == 0 else { throw error(path, "fsync") }
    }

    /// Flushes a folder's entries (new names, renames) to disk.
    static func fsyncDirectory(_ path: String) throws(CheckpointError) {
        let fd = try openFile(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try sync(fd, path: path)
    }

    /// Writes `count` bytes from `base` to a new file at `path` (replacing it); with `durable`,
    /// fsyncs it.
    static func writeFile(_ path: String, _ bytes: [UInt8], durable: Bool) throws(CheckpointError) {
        let fd = try openFile(path, O_WRONLY | O_CREAT | O_TRUNC)
        defer { close(fd) }
        try writeAll(fd, bytes, path: path)
        if durable { try sync(fd, path: path) }
    }

    /// Writes all of `bytes`.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(CheckpointError) {
        try bytes.withUnsafeBytes { b in
            Result { () throws(CheckpointError) in try writeAll(fd, b.baseAddress, b.count, path: path) }
        }.get()
    }

    /// The whole file as bytes (one read).
    static func readFile(_ path: String) throws(CheckpointError) -> [UInt8] {
        let fd = try openFile(path, O_RDONLY)
        defer { close(fd) }
        let size = try fileSize(fd, path: path)
        let storage = ByteStorage(count: size)
        let n = try readAll(fd, storage.base, size, path: path)
        return [UInt8](UnsafeRawBufferPointer(start: storage.base, count: n))
    }

    static func move(_ from: String, _ to: String) throws(CheckpointError) {
        guard rename(from, to) == 0 else { throw error(from, "rename to \(to)") }
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func makeDirectory(_ path: String) throws(CheckpointError) {
        guard mkdir(path, 0o755) == 0 else { throw error(path, "mkdir") }
    }

    /// Names in a folder, without "." and "..".
    static func list(_ path: String) throws(CheckpointError) -> [String] {
        guard let dir = opendir(path) else { throw error(path, "opendir") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Removes a file or a folder tree (no symlink is followed). A missing path is not an error.
    static func removeTree(_ path: String) throws(CheckpointError) {
        guard exists(path) else { return }
        if isDirectory(path) {
            for name in try list(path) { try removeTree(path + "/" + name) }
            guard rmdir(path) == 0 || errno == ENOENT else { throw error(path, "rmdir") }
        } else {
            guard unlink(path) == 0 || errno == ENOENT else { throw error(path, "unlink") }
        }
    }
}
