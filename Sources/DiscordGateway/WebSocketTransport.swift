/// What an open WebSocket connection reports, in order. Messages are complete: fragments are
/// reassembled by the transport.
public enum WebSocketEvent: Sendable, Equatable {
    /// A complete message. Discord's zlib-stream messages are binary; text is possible without compression.
    case message([UInt8], binary: Bool)
    /// The connection ended. `code` is the peer's close code (4000-4014 from Discord), or nil when the
    /// connection was lost without a close frame (network drop, handshake timeout, TLS failure).
    /// This is always the last event.
    case closed(code: UInt16?, reason: String)
}

/// Why a connection could not be opened.
public struct WebSocketConnectError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "WebSocket connect failed: \(message)" }
}

/// One WebSocket connection. Every method may be called from any task.
public protocol WebSocketConnection: Sendable {
    /// The events of this connection; finishes after `.closed`.
    var events: AsyncStream<WebSocketEvent> { get }
    /// Queues one text message (gateway payloads are JSON text, at most 4096 bytes).
    func send(text: [UInt8])
    /// Closes with the given code (1000 only at shutdown: it ends the Discord session; 4000 to resume later).
    /// The events stream then reports `.closed`.
    func close(code: UInt16)
}

/// Opens WebSocket connections (`wss://` with TLS peer verification, `ws://` only when the URL says so).
public protocol WebSocketTransport: Sendable {
    /// Connects and completes the handshake, or throws `WebSocketConnectError`.
    func connect(to url: String) async throws -> any WebSocketConnection
}
