import Foundation

/// A value reached only under an `NSLock` (not `Synchronization.Mutex`: ThreadSanitizer reports false
/// races on it under contention on Linux).
final class LockBox<Value>: @unchecked Sendable {
    // @unchecked: `value` is read and written only inside `withLock`, which holds `lock` throughout.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
