import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import Logging

/// A small HTTP/1.1 server on 127.0.0.1 (ephemeral port) for the libcurl transport tests. It records
/// every request and answers by path:
/// - `/no-content` 204; `/rate-limited` 429 with Discord's headers and JSON body;
/// - `/slow` answers only when the server stops (so only a timeout or a cancellation can end a request
///   to it, whatever the machine's load);
/// - anything else: 200 `{"ok":true}` with Discord-style rate-limit headers.
final class LoopbackHTTPServer: Sendable {
    struct ReceivedRequest: Sendable {
        var method: String
        var path: String
        var query: String
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        /// The first value of a header, by case-insensitive name.
        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    let port: Int
    private let recorder: LoopbackRecorder
    private let server: Task<Void, any Error>

    private init(port: Int, recorder: LoopbackRecorder, server: Task<Void, any Error>) {
        self.port = port; self.recorder = recorder; self.server = server
    }

    var received: [ReceivedRequest] { recorder.requests }
    func url(_ path: String, scheme: String = "http") -> String { "\(scheme)://127.0.0.1:\(port)\(path)" }
    /// Waits (up to a real-time timeout) until the server has received `count` requests.
    func waitForRequests(_ count: Int) async -> Bool { await recorder.wait(for: count) }

    /// Starts a server, runs the body, then stops the server.
    static func with<T: Sendable>(tls: TLSConfiguration? = nil, _ body: (LoopbackHTTPServer) async throws -> T) async throws -> T {
        let server = try await start(tls: tls)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// Starts a server; with `tls` it serves `https://` instead of `http://`.
    static func start(tls: TLSConfiguration? = nil) async throws -> LoopbackHTTPServer {
        let recorder = LoopbackRecorder()
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            let received = ReceivedRequest(
                method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
                headers: request.headers.map { ($0.name.rawName, $0.value) }, body: Array(buffer: body))
            await recorder.record(received)
            return try await answer(received, recorder: recorder)
        }
        let app = Application(
            responder: responder,
            server: try tls.map { try .tls(.http1(), tlsConfiguration: $0) } ?? .http1(),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            },
            logger: quietLogger)
        let task = Task {
            defer { portSink.finish() }
            try await app.run()
        }
        for await port in ports where port > 0 {
            return LoopbackHTTPServer(port: port, recorder: recorder, server: task)
        }
        task.cancel()
        _ = await task.result
        throw LoopbackServerError.didNotStart
    }

    func stop() async {
        recorder.releaseHeld()
        server.cancel()
        _ = await server.result
    }

    private static func answer(_ request: ReceivedRequest, recorder: LoopbackRecorder) async throws -> Response {
        switch request.path {
        case "/no-content":
            return Response(status: .noContent)
        case "/rate-limited":
            var headers = HTTPFields()
            headers[HTTPField.Name("Retry-After")!] = "3"
            headers[HTTPField.Name("X-RateLimit-Scope")!] = "user"
            headers[HTTPField.Name("X-RateLimit-Bucket")!] = "abcd1234"
            headers[.contentType] = "application/json"
            return Response(status: .tooManyRequests, headers: headers,
                            body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"message":"You are being rate limited.","retry_after":2.5,"global":false}"#)))
        case "/slow":
            await recorder.holdUntilReleased()
            return Response(status: .ok)
        default:
            var headers = HTTPFields()
            headers[HTTPField.Name("X-RateLimit-Bucket")!] = "abcd1234"
            headers[HTTPField.Name("X-RateLimit-Remaining")!] = "4"
            headers[HTTPField.Name("X-RateLimit-Reset-After")!] = "9.5"
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"ok":true}"#)))
        }
    }
}

/// Stopping the server by cancellation makes Hummingbird log errors; tests do not need them.
private let quietLogger: Logger = {
    var logger = Logger(label: "loopback-http")
    logger.logLevel = .critical
    return logger
}()

enum LoopbackServerError: Error { case didNotStart }

/// The requests the loopback server received, and waiting for the n-th one.
final class LoopbackRecorder: Sendable {
    private struct State: Sendable {
        var requests: [LoopbackHTTPServer.ReceivedRequest] = []
        var waiters: [(count: Int, continuation: CheckedContinuation<Bool, Never>)] = []
        var held: [CheckedContinuation<Void, Never>] = []
        var released = false
    }
    private let state = LoopbackLockedState(State())

    var requests: [LoopbackHTTPServer.ReceivedRequest] { state.withLock { $0.requests } }

    func record(_ request: LoopbackHTTPServer.ReceivedRequest) async {
        let ready = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.requests.append(request)
            let count = state.requests.count
            let ready = state.waiters.filter { $0.count <= count }.map(\.continuation)
            state.waiters.removeAll { $0.count <= count }
            return ready
        }
        for continuation in ready { continuation.resume(returning: true) }
    }

    /// Returns once `releaseHeld()` was called (the server stops).
    func holdUntilReleased() async {
        await withCheckedContinuation { continuation in
            let released = state.withLock { state in
                if !state.released { state.held.append(continuation) }
                return state.released
            }
            if released { continuation.resume() }
        }
    }

    func releaseHeld() {
        let held = state.withLock { state in
            state.released = true
            defer { state.held.removeAll() }
            return state.held
        }
        for continuation in held { continuation.resume() }
    }

    /// true once `count` requests arrived; false after 60 s of real time without them (a bound for a
    /// broken test only: on a loaded machine a request can take many seconds to arrive).
    func wait(for count: Int) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let done = self.state.withLock { state -> Bool in
                        if state.requests.count >= count { return true }
                        state.waiters.append((count, continuation))
                        return false
                    }
                    if done { continuation.resume(returning: true) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(60))
                return false
            }
            let first = await group.next() ?? false
            if !first {
                // Timed out: release the waiter so the group can finish.
                let stale = self.state.withLock { state -> [CheckedContinuation<Bool, Never>] in
                    defer { state.waiters.removeAll() }
                    return state.waiters.map(\.continuation)
                }
                for continuation in stale { continuation.resume(returning: false) }
            }
            group.cancelAll()
            return first
        }
    }
}

/// A value behind an NSLock. `@unchecked Sendable` is safe: the value is private and only reached
/// inside `withLock`, which holds the lock for the whole access.
final class LoopbackLockedState<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
