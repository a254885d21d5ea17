#if canImport(Glibc)
import Glibc
#endif

/// An open segment file. Thin, checked wrappers over the system calls the log needs;
/// every failure becomes a `SegmentLogError` naming the path and offset.
public final class SegmentFile: Sendable {
    public let path: String
    let fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { Glibc.close(fd) }

    public static func openForReading(_ path: String) throws -> SegmentFile {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SegmentLogError.io("cannot open segment", path: path) }
        return SegmentFile(path: path, fd: fd)
    }

    static func openForWriting(_ path: String) throws -> SegmentFile {
        let fd = Glibc.open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw SegmentLogError.io("cannot open segment for writing", path: path) }
        return SegmentFile(path: path, fd: fd)
    }

    public func size() throws -> UInt64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SegmentLogError.io("cannot stat segment", path: path) }
        return UInt64(st.st_size)
    }

    /// Reads `count` bytes at `offset` with positioned reads; fewer at end of file.
    public func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        let failure: Int32? = buffer.withUnsafeMutableBytes { raw in
            while done < count {
                let n = pread(fd, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                if n == 0 { break }
                done += n
            }
            return nil
        }
        if let failure { throw SegmentLogError.io("read failed", path: path, offset: offset, errno: failure) }
        if done < count { buffer.removeSubrange(done...) }
        return buffer
    }

    public func readAll() throws -> [UInt8] {
        try read(at: 0, count: Int(try size()))
    }

    func write(_ bytes: [UInt8], at offset: UInt64) throws {
        var done = 0
        let failure: Int32? = bytes.withUnsafeBytes { raw in
            while done < raw.count {
                let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                done += n
            }
            return nil
        }
        if let failure { throw SegmentLogError.io("write failed", path: path, offset: offset + UInt64(done), errno: failure) }
    }

    /// Makes written data durable. `fdatasync` suffices: the file size is data, the rest of
    /// the inode (times) is not needed to read the log back.
    func sync() throws {
        guard fdatasync(fd) == 0 else { throw SegmentLogError.io("fdatasync failed", path: path) }
    }

    func truncate(to length: UInt64) throws {
        guard ftruncate(fd, off_t(length)) == 0 else { throw SegmentLogError.io("cannot truncate segment", path: path, offset: length) }
    }

    /// Creates `path` holding `contents`, atomically: write a temporary file, fsync it,
    /// rename it into place, fsync the directory. A crash leaves either no file or the
    /// whole file (and perhaps a stray `.tmp`, which recovery removes).
    static func createAtomically(_ path: String, contents: [UInt8], mode: mode_t = 0o644) throws {
        let temporary = path + ".tmp"
        let fd = Glibc.open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SegmentLogError.io("cannot create segment", path: temporary) }
        let file = SegmentFile(path: temporary, fd: fd)
        do {
            try file.write(contents, at: 0)
            guard fsync(fd) == 0 else { throw SegmentLogError.io("fsync failed", path: temporary) }
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let saved = errno
            unlink(temporary)
            throw SegmentLogError.io("cannot rename segment into place", path: path, errno: saved)
        }
        try syncDirectory(of: path)
    }

    static func syncDirectory(of path: String) throws {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let dfd = Glibc.open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { throw SegmentLogError.io("cannot open directory", path: directory) }
        defer { Glibc.close(dfd) }
        guard fsync(dfd) == 0 else { throw SegmentLogError.io("cannot fsync directory", path: directory) }
    }
}

/// Small files written whole or not at all (checkpoints, keys): a temporary file, synced,
/// renamed into place, the directory synced.
public enum DurableFile {
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        try SegmentFile.createAtomically(path, contents: bytes, mode: mode)
    }

    /// Renames `source` over `destination` (atomic within one file system) and syncs the directory.
    public static func move(_ source: String, to destination: String) throws {
        guard Glibc.rename(source, destination) == 0 else { throw SegmentLogError.io("cannot rename to \(destination)", path: source) }
        try SegmentFile.syncDirectory(of: destination)
    }
}
