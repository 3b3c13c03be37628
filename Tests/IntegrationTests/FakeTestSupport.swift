import CZlib
import DiscordFake
import DiscordModels
import Foundation
import HTTPTypes
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import NIOCore
import NIOPosix
import NIOWebSocket

/// Starts a fake, runs the body, stops the fake (also when the body throws).
func withFake<T>(configuration: FakeConfiguration = FakeConfiguration(), seed: FakeSeed = FakeSeed(),
                 _ body: (FakeDiscord) async throws -> T) async throws -> T {
    let fake = FakeDiscord(configuration: configuration, seed: seed)
    try await fake.start()
    do {
        let result = try await body(fake)
        await fake.stop()
        return result
    } catch {
        await fake.stop()
        throw error
    }
}

/// A raw HTTP/1.1 client for the fake's REST API (not Warden's transport).
struct RawREST {
    let fake: FakeDiscord
    var userAgent = "DiscordBot (https://github.com/warden, 0.1)"

    struct Answer {
        var status: Int
        var headers: HTTPFields
        var body: String
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] }
        var jsonArray: [Any]? { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [Any] }
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }
    }

    /// Sends one request. `body: nil` sends no body and no Content-Length.
    func send(_ method: HTTPRequest.Method, _ path: String, body: String? = nil, authorization: String? = "bot",
              contentType: String? = "application/json", headers extra: [String: String] = [:]) async throws -> Answer {
        var headers = HTTPFields()
        switch authorization {
        case "bot": headers[.authorization] = "Bot \(fake.botToken.revealed)"
        case let value?: headers[.authorization] = value
        case nil: break
        }
        headers[.userAgent] = userAgent
        if body != nil, let contentType { headers[.contentType] = contentType }
        for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
        let uri = path.hasPrefix("/") ? path : "/api/v10/\(path)"
        let request = TestClient.Request(uri, method: method, authority: "127.0.0.1:\(fake.port)", headers: headers,
                                         body: body.map { ByteBuffer(string: $0) })
        let client = TestClient(host: "127.0.0.1", port: fake.port)
        client.connect()
        defer { Task { try? await client.shutdown() } }
        let response = try await client.execute(request)
        return Answer(status: response.status.code, headers: response.headers,
                      body: response.body.map { String(decoding: $0.readableBytesView, as: UTF8.self) } ?? "")
    }
}

/// Sends raw bytes over TCP and returns everything the server answers until it closes: for requests
/// a normal HTTP client would never send (a PUT without Content-Length).
func rawHTTP(port: Int, _ text: String) async throws -> String {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    return try await channel.executeThenClose { inbound, outbound in
        try await outbound.write(ByteBuffer(string: text))
        var answer = ""
        for try await buffer in inbound {
            answer += String(decoding: buffer.readableBytesView, as: UTF8.self)
            if answer.contains("</html>") { break }
        }
        return answer
    }
}

/// zlib-stream inflate for one gateway connection (test side).
final class TestInflater {
    private var stream = z_stream()
    private var buffer: [UInt8] = []

    init() { _ = warden_inflateInit(&stream) }
    deinit { inflateEnd(&stream) }

    /// Adds one WebSocket message; returns the payload once a message ends with 00 00 ff ff.
    func add(_ bytes: [UInt8]) -> String? {
        buffer += bytes
        guard buffer.count >= 4, buffer.suffix(4) == [0, 0, 0xff, 0xff] else { return nil }
        var input = buffer
        buffer = []
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 32 * 1024)
        input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = uInt(inputBuffer.count)
            chunk.withUnsafeMutableBufferPointer { out in
                repeat {
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    let status = inflate(&stream, Z_SYNC_FLUSH)
                    output += out[0..<(out.count - Int(stream.avail_out))]
                    if status != Z_OK { break }
                } while stream.avail_in > 0 || stream.avail_out == 0
            }
            stream.next_in = nil
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// What the test gateway client saw.
enum RawGatewayEvent: Sendable {
    case payload(op: Int, t: String?, s: Int?, d: JSONValue?, raw: String)
    case closed(code: Int?)
}

/// A raw gateway client over HummingbirdWSClient, with zlib-stream inflate, driven step by step.
final class RawGateway: Sendable {
    let events: AsyncStream<RawGatewayEvent>
    private let eventSink: AsyncStream<RawGatewayEvent>.Continuation
    private let commands: AsyncStream<Command>.Continuation
    private let task: Task<Void, Never>

    enum Command: Sendable {
        case text(String)
        case close(UInt16)
    }

    init(url: String, compress: Bool = true) {
        let (events, eventSink) = AsyncStream<RawGatewayEvent>.makeStream()
        let (commandStream, commands) = AsyncStream<Command>.makeStream()
        self.events = events
        self.eventSink = eventSink
        self.commands = commands
        let fullURL = url + "?v=10&encoding=json" + (compress ? "&compress=zlib-stream" : "")
        task = Task {
            let logger = Logger(label: "test.gateway", factory: { _ in SwiftLogNoOpLogHandler() })
            let closeFrame = try? await WebSocketClient.connect(
                url: fullURL, configuration: .init(maxFrameSize: 1 << 24), logger: logger
            ) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await command in commandStream {
                            switch command {
                            case .text(let text): try await outbound.write(.text(text))
                            case .close(let code):
                                try await outbound.close(.init(codeNumber: Int(code)), reason: nil)
                                return
                            }
                        }
                    }
                    let inflater = compress ? TestInflater() : nil
                    for try await message in inbound.messages(maxSize: 1 << 24) {
                        let text: String?
                        switch message {
                        case .binary(let buffer): text = inflater?.add(Array(buffer.readableBytesView))
                        case .text(let value): text = value
                        }
                        guard let text else { continue }
                        eventSink.yield(RawGateway.parse(text))
                    }
                    group.cancelAll()
                }
            }
            var code: Int?
            if let closeFrame { code = Int(UInt16(webSocketErrorCode: closeFrame.closeCode)) }
            eventSink.yield(.closed(code: code))
            eventSink.finish()
        }
    }

    static func parse(_ text: String) -> RawGatewayEvent {
        struct Envelope: Decodable { var op: Int; var t: String?; var s: Int?; var d: JSONValue? }
        guard let envelope = try? JSONDecoder().decode(Envelope.self, from: Data(text.utf8)) else {
            return .payload(op: -1, t: nil, s: nil, d: nil, raw: text)
        }
        return .payload(op: envelope.op, t: envelope.t, s: envelope.s, d: envelope.d, raw: text)
    }

    func send(_ text: String) { commands.yield(.text(text)) }
    func send(op: Int, _ data: String) { send("{\"op\":\(op),\"d\":\(data)}") }
    func close(code: UInt16) { commands.yield(.close(code)) }

    func identify(token: String, intents: Int = 3) {
        send(op: 2, "{\"token\":\"\(token)\",\"intents\":\(intents),\"properties\":{\"os\":\"linux\",\"browser\":\"test\",\"device\":\"test\"}}")
    }

    /// The next event matching `predicate`, skipping others; fails after `timeout`.
    func next(timeout: Duration = .seconds(60), where predicate: @escaping @Sendable (RawGatewayEvent) -> Bool = { _ in true })
        async throws -> RawGatewayEvent {
        let events = self.events
        return try await withThrowingTaskGroup(of: RawGatewayEvent?.self) { group in
            group.addTask {
                for await event in events where predicate(event) { return event }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let event = try await group.next()!, case let found? = Optional(event) else {
                throw RawGatewayTimeout()
            }
            return found
        }
    }

    /// The next dispatch named `name`.
    func dispatch(_ name: String, timeout: Duration = .seconds(60)) async throws -> (s: Int?, d: JSONValue?) {
        let event = try await next(timeout: timeout) { if case .payload(0, name?, _, _, _) = $0 { return true }; return false }
        guard case .payload(_, _, let s, let d, _) = event else { throw RawGatewayTimeout() }
        return (s, d)
    }

    /// The close code the connection ended with (nil: no close frame).
    func closeCode(timeout: Duration = .seconds(60)) async throws -> Int? {
        let event = try await next(timeout: timeout) { if case .closed = $0 { return true }; return false }
        guard case .closed(let code) = event else { throw RawGatewayTimeout() }
        return code
    }

    func shutdown() {
        commands.finish()
        task.cancel()
    }
}

struct RawGatewayTimeout: Error {}

extension JSONValue {
    var fakeArray: [JSONValue]? { if case .array(let items) = self { return items }; return nil }
    var fakeNumber: Double? { if case .number(let value) = self { return value }; return nil }
    var fakeInt: Int? { fakeNumber.map { Int($0) } }
    var fakeBool: Bool? { if case .bool(let value) = self { return value }; return nil }
}
