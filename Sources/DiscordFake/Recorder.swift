import DiscordModels

/// One HTTP request the fake received, as it arrived.
public struct RecordedRequest: Sendable, CustomStringConvertible {
    /// Position in the fake's request log (0-based).
    public var index: Int
    public var method: String
    /// The path without the query, e.g. `/api/v10/guilds/1/members/2/roles/3`.
    public var path: String
    /// The raw query string without `?`, or nil.
    public var query: String?
    /// Header names in lower case, in arrival order.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// `FakeClock.now()` when the request arrived.
    public var receivedAt: Double
    /// Time since the fake started (`ContinuousClock`), for latency measurements.
    public var arrival: ContinuousClock.Instant

    /// The first value of a header (case-insensitive).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name == lowered }?.value
    }

    /// The body as UTF-8 text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// "METHOD /path" (never headers: they hold the token).
    public var description: String { "\(method) \(path)" }
}

/// The fake's answer to a recorded request.
public struct RecordedResponse: Sendable, CustomStringConvertible {
    /// The `index` of the request it answers.
    public var requestIndex: Int
    public var method: String
    public var path: String
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// "PUT /api/v10/… → 204".
    public var description: String { "\(method) \(path) → \(status)" }
}

/// Something that happened on the fake, for a narrator (the demo) or a test log.
public enum FakeActivity: Sendable, CustomStringConvertible {
    case request(RecordedRequest)
    case response(RecordedResponse)
    case gatewayPayload(RecordedGatewayPayload)
    case dispatch(SentDispatch)
    case connectionOpened(connection: Int)
    case connectionClosed(connection: Int)

    public var description: String {
        switch self {
        case .request(let request): "→ \(request)"
        case .response(let response): "← \(response)"
        case .gatewayPayload(let payload): "gateway ← \(payload)"
        case .dispatch(let dispatch): "gateway → \(dispatch)"
        case .connectionOpened(let id): "gateway connection \(id) opened"
        case .connectionClosed(let id): "gateway connection \(id) closed"
        }
    }
}

/// One payload a gateway client sent, parsed loosely.
public struct RecordedGatewayPayload: Sendable, CustomStringConvertible {
    public var index: Int
    /// The connection it came on (connections are numbered from 1 in order of arrival).
    public var connection: Int
    public var op: Int?
    /// The raw text (an identify holds the token: do not log it).
    public var text: String
    public var receivedAt: Double

    public var description: String { "op \(op.map(String.init) ?? "?") on connection \(connection)" }
}

/// Something a test waits for.
struct Waiters<Value: Sendable>: Sendable {
    struct Entry: Sendable {
        var predicate: @Sendable (Value) -> Bool
        var continuation: CheckedContinuation<Value, any Error>
    }
    var nextID = 0
    var entries: [Int: Entry] = [:]

    mutating func offer(_ value: Value) {
        for (id, entry) in entries where entry.predicate(value) {
            entries[id] = nil
            entry.continuation.resume(returning: value)
        }
    }

    mutating func cancel(_ id: Int) {
        entries.removeValue(forKey: id)?.continuation.resume(throwing: CancellationError())
    }
}

/// A wait on the fake did not see what it waited for in time.
public struct FakeWaitTimeout: Error, CustomStringConvertible {
    public var what: String
    public var description: String { "DiscordFake: timed out waiting for \(what)" }
}
