import Foundation

/// A value behind an NSLock. (Synchronization.Mutex gives ThreadSanitizer false reports on Linux, which
/// would make the TSan job useless; NSLock does not.)
final class Locked<Value: Sendable>: @unchecked Sendable {
    // Safe: `value` is only read or written inside `withLock`, under `lock`.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
