import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed file-system operation: one line naming the path and the problem.
public struct FileWriteError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var problem: String
    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }
    public var description: String { "\(path): \(problem)" }
}

/// Whole-file writes that never leave a half-written target.
///
/// `write(_:to:)` follows the classic POSIX recipe:
/// 1. create a temporary file **in the target's directory** (same file system, so `rename` is
///    atomic), named `.<name>.tmp-<pid>-<counter>` and opened with `O_CREAT | O_EXCL`;
/// 2. write every byte and `fsync(2)` it, so the data is on disk before the name points at it;
/// 3. `rename(2)` it over the target — readers see either the old file or the new one, never a mix;
/// 4. `fsync` the directory (best effort) so the rename itself is durable.
///
/// On any failure the temporary file is removed and a `FileWriteError` naming the target is thrown.
/// A symbolic link at the target is replaced by a regular file, not written through.
public enum AtomicFile {
    /// Distinguishes temporary files of concurrent writers within one process.
    private static let counter = Counter()

    /// Writes `data` to `path`, replacing any existing file atomically.
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        guard !name.isEmpty, name != "/" else {
            throw FileWriteError(path: path, problem: "not a file name")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw FileWriteError(path: path, problem: "is a directory")
        }
        let temp = directory + "/.\(name).tmp-\(getpid())-\(counter.next())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw FileWriteError(path: path, problem: "cannot create temporary file in \(directory) (\(errnoText()))")
        }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        do {
            defer { close(fd) }
            try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                var offset = 0
                while offset < raw.count {
                    let n = systemWrite(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw FileWriteError(path: path, problem: "write failed (\(errnoText()))")
                    }
                    offset += n
                }
            }
            guard fsync(fd) == 0 else {
                throw FileWriteError(path: path, problem: "fsync failed (\(errnoText()))")
            }
        }
        guard rename(temp, path) == 0 else {
            throw FileWriteError(path: path, problem: "rename from temporary file failed (\(errnoText()))")
        }
        ok = true
        // Make the new directory entry durable; failure here does not undo a completed write.
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    /// Writes `data` to `url` (a file URL) atomically.
    public static func write(_ data: Data, to url: URL) throws {
        try write(data, to: url.path)
    }

    /// Writes `text` as UTF-8 to `path` atomically.
    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    /// Writes `json` (two-space indented when `pretty`, with a final newline) to `path` atomically.
    public static func write(_ json: JSONValue, pretty: Bool = true, to path: String) throws {
        try write(json.serialized(pretty: pretty) + "\n", to: path)
    }

    /// Makes sure `path` is a directory, creating it and its parents if needed.
    /// Throws a one-line error when `path` exists but is not a directory, or cannot be created.
    public static func prepareOutputDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { return }
            throw FileWriteError(path: path, problem: "exists and is not a directory")
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            // Another process may have created it meanwhile; that is fine if it is a directory.
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                return
            }
            throw FileWriteError(path: path, problem: "cannot create directory")
        }
    }

    /// `write(2)`, named apart from `AtomicFile.write`.
    private static func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(fd, buffer, count)
        #elseif canImport(Musl)
        return Musl.write(fd, buffer, count)
        #else
        return Darwin.write(fd, buffer, count)
        #endif
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }

    /// A thread-safe increasing counter.
    private final class Counter: @unchecked Sendable {
        private var value = 0
        private let lock = NSLock()
        func next() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value
        }
    }
}

extension JSONValue {
    /// Writes this value (two-space indented when `pretty`, with a final newline) to `path`
    /// atomically; see `AtomicFile`.
    public func write(to path: String, pretty: Bool = true) throws {
        try AtomicFile.write(self, pretty: pretty, to: path)
    }
}
