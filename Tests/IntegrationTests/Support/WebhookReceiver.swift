import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// An alert webhook endpoint on 127.0.0.1 (ephemeral port): records every request it receives and
/// answers 204. Tests wait for a notice with `waitForNotice`, which resumes on the request itself
/// (no polling).
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var method: String
        var path: String
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
        /// The body as a JSON object, if it is one.
        var object: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
        /// `kind` of the JSON alert object.
        var kind: String? { object?["kind"] as? String }
        /// Whether the JSON alert object is a resolve notice (`resolved_at` set).
        var isResolved: Bool { (object?["resolved_at"]).map { !($0 is NSNull) } ?? false }
    }

    struct TimedOut: Error, CustomStringConvertible {
        var what: String
        var description: String { "the webhook never received \(what)" }
    }

    private struct State: Sendable {
        var received: [Received] = []
        var waiters: [Int: Waiter] = [:]
        var nextWaiter = 0
    }

    private struct Waiter: Sendable {
        var predicate: @Sendable (Received) -> Bool
        var continuation: CheckedContinuation<Received, any Error>
    }

    let port: Int
    private let state: LoopbackLockedState<State>
    private let server: Task<Void, any Error>

    private init(port: Int, state: LoopbackLockedState<State>, server: Task<Void, any Error>) {
        self.port = port; self.state = state; self.server = server
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }
    var received: [Received] { state.withLock { $0.received } }

    static func start() async throws -> WebhookReceiver {
        let state = LoopbackLockedState(State())
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            let received = Received(method: request.method.rawValue, path: request.uri.path,
                                    headers: request.headers.map { ($0.name.rawName, $0.value) }, body: Array(buffer: body))
            let ready = state.withLock { state -> [CheckedContinuation<Received, any Error>] in
                state.received.append(received)
                let matched = state.waiters.filter { $0.value.predicate(received) }
                for key in matched.keys { state.waiters[key] = nil }
                return matched.values.map(\.continuation)
            }
            for continuation in ready { continuation.resume(returning: received) }
            return Response(status: .noContent)
        }
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .critical
        let app = Application(
            responder: responder, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            },
            logger: logger)
        let task = Task {
            defer { portSink.finish() }
            try await app.run()
        }
        for await port in ports where port > 0 {
            return WebhookReceiver(port: port, state: state, server: task)
        }
        task.cancel()
        _ = await task.result
        throw LoopbackServerError.didNotStart
    }

    /// The first request (already received or arriving within `timeout`) matching `predicate`.
    @discardableResult
    func waitFor(_ what: String, timeout: Duration = .seconds(60),
                 where predicate: @escaping @Sendable (Received) -> Bool) async throws -> Received {
        let state = self.state
        return try await withThrowingTaskGroup(of: Received.self) { group in
            group.addTask {
                let id = state.withLock { state in defer { state.nextWaiter += 1 }; return state.nextWaiter }
                return try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { continuation in
                        let early: Result<Received, any Error>? = state.withLock { state in
                            if let found = state.received.first(where: predicate) { return .success(found) }
                            if Task.isCancelled { return .failure(CancellationError()) }
                            state.waiters[id] = Waiter(predicate: predicate, continuation: continuation)
                            return nil
                        }
                        if let early { continuation.resume(with: early) }
                    }
                } onCancel: {
                    let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
                    waiter?.continuation.resume(throwing: CancellationError())
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TimedOut(what: what)
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// The JSON alert object notice of `kind`: raised (or still open) when `resolved` is false, the
    /// resolve notice when true.
    @discardableResult
    func waitForNotice(_ kind: String, resolved: Bool, timeout: Duration = .seconds(60)) async throws -> Received {
        try await waitFor("a \(resolved ? "resolved" : "raised") \(kind) notice", timeout: timeout) {
            $0.kind == kind && $0.isResolved == resolved
        }
    }

    func stop() async {
        server.cancel()
        _ = await server.result
        let waiters = state.withLock { state in defer { state.waiters.removeAll() }; return state.waiters.values }
        for waiter in waiters { waiter.continuation.resume(throwing: CancellationError()) }
    }
}
