import DiscordModels

/// What the fake saw: requests, gateway payloads, sessions, and waits that never sleep blindly.
extension FakeDiscord {
    /// Every HTTP request received, in order.
    public var requests: [RecordedRequest] { state.withLock { $0.requests } }
    /// How many requests arrived so far (use as `from:` to wait only for later ones).
    public var requestCount: Int { state.withLock { $0.requests.count } }
    /// The fake's answers, in the order they were given.
    public var responses: [RecordedResponse] { state.withLock { $0.responses } }
    /// The answer to the request with this index, if given yet.
    public func response(toRequest index: Int) -> RecordedResponse? {
        state.withLock { $0.responses.first { $0.requestIndex == index } }
    }

    /// A stream of everything that happens from now on (requests, answers, gateway payloads, dispatches,
    /// connections), for a narrator or a test log. Ends at `stop()` or when the consumer goes away.
    public func activity() -> AsyncStream<FakeActivity> {
        let (stream, continuation) = AsyncStream<FakeActivity>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let id = state.withLock { state in
            defer { state.nextObserverID += 1 }
            state.observers[state.nextObserverID] = continuation
            return state.nextObserverID
        }
        let state = self.state
        continuation.onTermination = { _ in state.withLock { _ = $0.observers.removeValue(forKey: id) } }
        return stream
    }

    /// Every payload gateway clients sent, in order.
    public var gatewayPayloads: [RecordedGatewayPayload] { state.withLock { $0.gatewayPayloads } }
    /// Successful identifies (new sessions).
    public var identifyCount: Int { state.withLock { $0.identifyCount } }
    /// Successful resumes.
    public var resumeCount: Int { state.withLock { $0.resumeCount } }
    /// Open WebSocket connections.
    public var gatewayConnectionCount: Int { state.withLock { $0.connections.count } }
    /// WebSocket connections opened since the start (to see whether a client reconnects in a loop).
    public var gatewayConnectionsOpened: Int { state.withLock { $0.nextConnectionID - 1 } }
    /// Sessions that exist (connected or resumable).
    public var sessionCount: Int { state.withLock { state in state.expireSessions(); return state.sessions.count } }
    /// Invalid requests (401, 403, non-shared 429) in the current window.
    public var invalidRequestCount: Int { state.withLock { $0.invalidRequests.count } }

    /// The first request at index `from` or later matching `predicate`, waiting up to `timeout` for it.
    @discardableResult
    public func waitForRequest(from index: Int = 0, timeout: Duration = .seconds(60),
                               where predicate: @escaping @Sendable (RecordedRequest) -> Bool) async throws -> RecordedRequest {
        try await wait(for: "a matching request", timeout: timeout, waiters: \.requestWaiters,
                       existing: { state in state.requests.dropFirst(index).first(where: predicate) },
                       predicate: { $0.index >= index && predicate($0) })
    }

    /// The first gateway payload at index `from` or later matching `predicate`.
    @discardableResult
    public func waitForGatewayPayload(from index: Int = 0, timeout: Duration = .seconds(60),
                                      where predicate: @escaping @Sendable (RecordedGatewayPayload) -> Bool) async throws
        -> RecordedGatewayPayload {
        try await wait(for: "a matching gateway payload", timeout: timeout, waiters: \.gatewayWaiters,
                       existing: { state in state.gatewayPayloads.dropFirst(index).first(where: predicate) },
                       predicate: { $0.index >= index && predicate($0) })
    }

    /// The next dispatch the fake sends (from now on) matching `predicate`, e.g. `{ $0.name == "READY" }`.
    @discardableResult
    public func waitForDispatch(timeout: Duration = .seconds(60),
                                where predicate: @escaping @Sendable (SentDispatch) -> Bool) async throws -> SentDispatch {
        try await wait(for: "a matching dispatch", timeout: timeout, waiters: \.dispatchWaiters,
                       existing: { _ in nil }, predicate: predicate)
    }

    private func wait<Value: Sendable>(for what: String, timeout: Duration,
                                       waiters: WritableKeyPath<FakeState, Waiters<Value>> & Sendable,
                                       existing: @escaping @Sendable (FakeState) -> Value?,
                                       predicate: @escaping @Sendable (Value) -> Bool) async throws -> Value {
        let state = self.state
        return try await withThrowingTaskGroup(of: Value.self) { group in
            group.addTask {
                let waiterID = state.withLock { state in
                    defer { state[keyPath: waiters].nextID += 1 }
                    return state[keyPath: waiters].nextID
                }
                return try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
                        state.withLock { state in
                            if let found = existing(state) {
                                continuation.resume(returning: found)
                            } else if Task.isCancelled {
                                continuation.resume(throwing: CancellationError())
                            } else {
                                state[keyPath: waiters].entries[waiterID] = .init(predicate: predicate,
                                                                                  continuation: continuation)
                            }
                        }
                    }
                } onCancel: {
                    state.withLock { $0[keyPath: waiters].cancel(waiterID) }
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw FakeWaitTimeout(what: what)
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }
}
