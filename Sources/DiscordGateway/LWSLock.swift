import Foundation

/// A value behind an `NSLock`, shared between Swift tasks and the libwebsockets service thread.
///
/// `NSLock` rather than `Synchronization.Mutex`: ThreadSanitizer reports false races on `Mutex` under
/// contention on Linux, and this box is what the lws thread and the tasks meet on.
final class LWSLock<Value>: @unchecked Sendable {
    // @unchecked Sendable: `value` is only read or written inside `withLock`, under `lock`.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
