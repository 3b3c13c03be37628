import Foundation

/// WebSocket connections over libwebsockets (see docs/transport.md).
///
/// Each connection gets its own `lws_context` and its own service thread: one gateway connection is all
/// Warden needs, a context per connection keeps TLS settings and teardown independent, and destroying
/// the context is the single point where every C resource of a connection is released.
///
/// `wss://` always verifies the server's certificate chain (the system CA store, plus `caFile` when set)
/// and its host name; there is no switch to turn that off. `ws://` is used only when the URL says so.
public struct LWSWebSocketTransport: WebSocketTransport {
    /// A PEM file with extra CA certificates to trust besides the system store.
    public var caFile: String?
    /// Time allowed for the TCP connection (whole seconds, at least 1).
    public var connectTimeout: Duration
    /// Time allowed for each later step of the opening: TLS and the WebSocket handshake (whole seconds, at least 1).
    public var handshakeTimeout: Duration
    /// Largest message accepted; a bigger one closes the connection (1009) and ends it with `.closed(code: nil, …)`.
    public var maxMessageBytes: Int

    public init(
        caFile: String? = nil,
        connectTimeout: Duration = .seconds(20),
        handshakeTimeout: Duration = .seconds(20),
        maxMessageBytes: Int = 64 * 1024 * 1024
    ) {
        self.caFile = caFile
        self.connectTimeout = connectTimeout
        self.handshakeTimeout = handshakeTimeout
        self.maxMessageBytes = maxMessageBytes
    }

    public func connect(to url: String) async throws -> any WebSocketConnection {
        let endpoint = try WebSocketEndpoint(parsing: url)
        if endpoint.secure, let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw WebSocketConnectError("the CA file \(caFile) cannot be read")
        }
        let settings = LWSConnectionSettings(
            endpoint: endpoint,
            caFile: caFile,
            connectTimeoutSeconds: Self.wholeSeconds(connectTimeout),
            handshakeTimeoutSeconds: Self.wholeSeconds(handshakeTimeout),
            maxMessageBytes: max(1, maxMessageBytes)
        )
        let connection = LWSConnection()
        try await connection.open {
            let thread = Thread {
                let loop = LWSServiceLoop(link: connection, settings: settings)
                withExtendedLifetime(loop) { loop.run() }
            }
            thread.name = "lws-websocket"
            thread.start()
        }
        return connection
    }

    /// lws counts timeouts in whole seconds: round up, at least 1.
    static func wholeSeconds(_ duration: Duration) -> UInt32 {
        let (seconds, attoseconds) = duration.components
        let rounded = seconds + (attoseconds > 0 ? 1 : 0)
        return UInt32(clamping: max(1, rounded))
    }
}
