import Foundation

/// A value behind an `NSLock`. The fake's whole state lives in one of these so every mutation,
/// the dispatches it causes and their sequence numbers happen in one step, in one order.
///
/// `@unchecked Sendable` is safe: the value is only reached through `withLock`, which holds the lock.
final class LockBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
