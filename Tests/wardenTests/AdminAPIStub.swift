import Foundation
import Hummingbird
import Logging

/// A stand-in for the daemon's admin API on 127.0.0.1 (ephemeral port): records every request and
/// answers through a closure given by the test. Stopped by `with`.
final class AdminAPIStub: Sendable {
    struct Received: Sendable {
        var method: String
        var path: String
        var authorization: String?
        var contentType: String?
        var body: [UInt8]

        var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    struct Reply: Sendable {
        var status: HTTPResponse.Status
        var json: String
        init(_ status: HTTPResponse.Status = .ok, _ json: String) { self.status = status; self.json = json }
    }

    let port: Int
    private let log: StubLog
    private let server: Task<Void, any Error>

    private init(port: Int, log: StubLog, server: Task<Void, any Error>) {
        self.port = port; self.log = log; self.server = server
    }

    var received: [Received] { log.withLock { $0 } }

    /// Starts a stub answering with `reply`, runs `body`, stops the stub.
    static func with<T>(reply: @escaping @Sendable (Received) -> Reply, _ body: (AdminAPIStub) async throws -> T) async throws -> T {
        let log = StubLog([])
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            let received = Received(
                method: request.method.rawValue, path: request.uri.path,
                authorization: request.headers[.authorization], contentType: request.headers[.contentType],
                body: Array(buffer: body))
            log.withLock { $0.append(received) }
            let answer = reply(received)
            return Response(status: answer.status, headers: [.contentType: "application/json"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: answer.json)))
        }
        var quiet = Logger(label: "admin-api-stub")
        quiet.logLevel = .critical
        let app = Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            },
            logger: quiet)
        let task = Task {
            defer { portSink.finish() }
            try await app.run()
        }
        var port = 0
        for await bound in ports { port = bound }
        guard port > 0 else {
            task.cancel()
            _ = await task.result
            throw StubError.didNotStart
        }
        let stub = AdminAPIStub(port: port, log: log, server: task)
        defer { task.cancel() }
        let result = try await body(stub)
        task.cancel()
        _ = await task.result
        return result
    }

    /// A valid configuration whose `http.listen` is this stub (secrets come from `secretsEnvironment`).
    var configurationText: String {
        get throws {
            let example = try String(contentsOfFile: examplePath, encoding: .utf8)
            precondition(example.contains("\"127.0.0.1:8080\""))
            return example.replacingOccurrences(of: "\"127.0.0.1:8080\"", with: "\"127.0.0.1:\(port)\"")
        }
    }

    enum StubError: Error { case didNotStart }
}

/// Requests received, behind an NSLock. `@unchecked Sendable` is safe: the value is private and only
/// reached inside `withLock`.
final class StubLog: @unchecked Sendable {
    private let lock = NSLock()
    private var value: [AdminAPIStub.Received]
    init(_ value: [AdminAPIStub.Received]) { self.value = value }
    func withLock<R>(_ body: (inout [AdminAPIStub.Received]) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// A counter behind an NSLock, for stubs whose answers change from one request to the next.
/// `@unchecked Sendable` is safe: the count is private and only reached under the lock.
final class StubCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    /// Returns the count before this call, then adds one.
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        defer { count += 1 }
        return count
    }
}
