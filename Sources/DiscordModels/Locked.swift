import Foundation

/// A value reached only under an `NSLock`: the one lock box every module uses for state shared between
/// Swift tasks and C threads (the libwebsockets and curl loops) or between synchronous callers.
///
/// `NSLock` rather than `Synchronization.Mutex`: ThreadSanitizer reports false races on `Mutex` under
/// contention on Linux, which would make the sanitizer runs useless.
///
/// `@unchecked Sendable` is safe: `value` is private and only read or written inside `withLock`, which
/// holds the lock for the whole access.
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
