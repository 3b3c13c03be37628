/// Runs `body`, failing with `LWSTestDeadlineExceeded` if it has not finished after `limit`.
/// The limit is a guard against a hung test, far above the expected time; it measures nothing.
@discardableResult
func withLWSTestDeadline<T: Sendable>(
    _ limit: Duration = .seconds(60), _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw LWSTestDeadlineExceeded(limit: limit)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

struct LWSTestDeadlineExceeded: Error {
    let limit: Duration
}
