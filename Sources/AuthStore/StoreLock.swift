#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The claim of one `warden run` on a SQLite store: an exclusive `flock` on `<store>.lock` (mode 0600,
/// holding the owner's pid and host name), held for the life of the process. A second `warden run` on the
/// same store fails to take it and refuses to start instead of fighting the first (SPEC 3.2).
///
/// The kernel drops a `flock` when the process that holds it ends, however it ends: after a SIGKILL or a
/// crash the next start takes the lock at once; the file left behind is harmless (its pid is only read
/// while someone holds the lock). The lock is advisory and for SQLite stores only: several instances on
/// one shared store are SPEC section 7's job (leases in the database), not this file's.
///
/// `flock` rather than `fcntl` record locks: those belong to the process and are dropped when any
/// descriptor of the file is closed anywhere in it, and SQLite itself uses them on the database file.
public final class StoreLock: Sendable {
    /// Who holds a lock, as its lock file says.
    public struct Holder: Sendable, Hashable, CustomStringConvertible {
        public var pid: Int32?
        public var host: String?

        public init(pid: Int32? = nil, host: String? = nil) {
            self.pid = pid
            self.host = host
        }

        public var description: String {
            switch (pid, host) {
            case let (pid?, host?): "pid \(pid) on host \(host)"
            case let (pid?, nil): "pid \(pid)"
            case (nil, _): "a process that has not written its pid yet"
            }
        }
    }

    /// Why the lock was not taken.
    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// Another process holds it.
        case held(storePath: String, lockPath: String, by: Holder)
        /// The lock file could not be opened or locked (`reason` is the system's message).
        case unavailable(lockPath: String, reason: String)

        public var description: String {
            switch self {
            case let .held(storePath, lockPath, holder):
                "the store \"\(storePath)\" is in use by another warden run (\(holder); lock file \"\(lockPath)\"): "
                    + "stop that one first, or give this one its own store.path"
            case let .unavailable(lockPath, reason):
                "cannot lock \"\(lockPath)\": \(reason)"
            }
        }
    }

    /// `<store>.lock`.
    public let path: String
    private let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    /// The lock file of the store at `storePath`.
    public static func lockPath(forStoreAt storePath: String) -> String { storePath + ".lock" }

    /// Takes the lock of the store at `storePath` without waiting, and writes `pid` and `host` into it.
    public static func acquire(storePath: String, pid: Int32 = getpid(), host: String = StoreLock.hostName())
        throws(Failure) -> StoreLock {
        let path = lockPath(forStoreAt: storePath)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, PrivateFile.mode)
        guard descriptor >= 0 else { throw .unavailable(lockPath: path, reason: Self.systemMessage(errno)) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            defer { close(descriptor) }
            guard code == EWOULDBLOCK else { throw .unavailable(lockPath: path, reason: Self.systemMessage(code)) }
            throw .held(storePath: storePath, lockPath: path, by: Self.holder(readingFrom: descriptor))
        }
        // A lock file left by an older Warden (or made by hand) may be wider: this one is the owner's alone.
        _ = fchmod(descriptor, PrivateFile.mode)
        let text = Array("\(pid)\n\(host)\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = text.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        return StoreLock(path: path, descriptor: descriptor)
    }

    /// Empties the file (so no stale pid stays in it) and lets the lock go.
    deinit {
        _ = ftruncate(descriptor, 0)
        close(descriptor)
    }

    /// The pid and host written by the holder.
    static func holder(readingFrom descriptor: Int32) -> Holder {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return Holder() }
        let lines = String(decoding: buffer[..<count], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let pid = lines.first.flatMap { Int32($0) }
        let host = lines.dropFirst().first.map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        return Holder(pid: pid, host: host)
    }

    /// This machine's host name, or "?" when it cannot be read.
    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func systemMessage(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
