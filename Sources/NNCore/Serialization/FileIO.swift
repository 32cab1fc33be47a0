#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and crash-safe whole-file writes.
enum FileIO {
    /// The system's message for the current errno.
    private static func reason() -> String { String(cString: strerror(errno)) }

    /// The bytes of the regular file at `path`. Reads what the file holds,
    /// however its size changes meanwhile: the result is never larger than
    /// what was actually read.
    static func readAll(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NNError.io("cannot open \(path): \(reason())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw NNError.io("cannot stat \(path): \(reason())") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw NNError.io("cannot read \(path): not a regular file")
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(max(0, Int(info.st_size)))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw NNError.io("cannot read \(path): \(reason())")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    /// Writes `bytes` to `path` so that, whenever the process or the machine
    /// stops, `path` holds either its previous content or all of `bytes`:
    /// the bytes go to a new temporary file in the same directory, which is
    /// flushed to disk (fsync) and then renamed over `path` (rename is
    /// atomic within a file system); the directory is flushed last, so the
    /// rename itself survives a power loss. On any error the temporary file
    /// is removed and `path` is untouched.
    static func writeAtomically(_ bytes: [UInt8], to requested: String) throws {
        // A symbolic link is followed, so the file it points to is replaced
        // (not the link); an existing file keeps its permissions.
        var path = requested
        var info = stat()
        var mode: mode_t = 0o644
        if lstat(requested, &info) == 0 {
            if (info.st_mode & S_IFMT) == S_IFLNK, let resolved = realpath(requested, nil) {
                path = String(cString: resolved)
                free(resolved)
            }
            if stat(path, &info) == 0 { mode = info.st_mode & 0o7777 }
        }
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !name.isEmpty else { throw NNError.io("cannot save \(requested): the path names a directory") }
        // The temporary file's name: the target's (cut to 200 bytes, so that
        // the whole stays within NAME_MAX), process id, counter, random tag.
        var stem = ""
        for scalar in name.unicodeScalars {
            if stem.utf8.count + String(scalar).utf8.count > 200 { break }
            stem.unicodeScalars.append(scalar)
        }
        // A name no other writer uses: process id plus a counter plus a
        // random suffix; O_EXCL refuses an existing file.
        var fd: Int32 = -1
        var temporary = ""
        for attempt in 0..<16 {
            let tag = String(UInt64.random(in: 0...UInt64.max) >> 16, radix: 36)
            temporary = "\(directory)/.\(stem).\(getpid()).\(attempt)\(tag).tmp"
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else {
            throw NNError.io("cannot save \(requested): cannot create a temporary file in \(directory): \(reason())")
        }
        var failure: String? = nil
        if fchmod(fd, mode) != 0 { failure = "cannot set the permissions of \(temporary): \(reason())" }
        if failure == nil { bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = "cannot write \(temporary): \(reason())"
                    return
                }
                done += n
            }
        } }
        if failure == nil, fsync(fd) != 0 { failure = "cannot flush \(temporary) to disk: \(reason())" }
        if close(fd) != 0, failure == nil { failure = "cannot close \(temporary): \(reason())" }
        if failure == nil, rename(temporary, path) != 0 { failure = "cannot rename \(temporary) to \(path): \(reason())" }
        if let failure {
            unlink(temporary)
            throw NNError.io("cannot save \(requested): \(failure)")
        }
        // Flush the directory entry (best effort: some file systems refuse).
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }
}
