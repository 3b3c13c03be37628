import Foundation

/// A value shared between threads (Swift tasks and the curl thread), reached only under an `NSLock`.
///
/// `@unchecked Sendable` is safe because the stored value is private and every read or write goes
/// through `withLock`, which holds the lock for the whole access. NSLock rather than
/// `Synchronization.Mutex`: ThreadSanitizer reports false races on Mutex under contention on Linux.
final class LockedBox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
