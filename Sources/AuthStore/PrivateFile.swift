#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Files only their owner may read or write (mode 0600): the store and its lock file (SPEC 3.2).
enum PrivateFile {
    /// The mode Warden creates its files with.
    static let mode: mode_t = 0o600

    /// Creates an empty file at `path` with mode 0600 if nothing is there yet; leaves an existing file
    /// alone. Any other failure is left for the caller's own open to report (SQLite names the path).
    static func create(at path: String) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard descriptor >= 0 else { return }
        // The umask can only clear bits of 0600; fchmod makes the mode exact anyway.
        _ = fchmod(descriptor, mode)
        close(descriptor)
    }
}
