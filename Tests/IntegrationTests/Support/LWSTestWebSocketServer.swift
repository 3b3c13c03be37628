import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket

/// One accepted WebSocket connection on the test server, handed to the test's script.
struct LWSTestPeer: Sendable {
    let inbound: WebSocketInboundStream
    let outbound: WebSocketOutboundWriter
    let channel: any Channel

    /// Complete messages from the client (fragments reassembled by hummingbird-websocket).
    func messages() -> WebSocketInboundMessageStream {
        inbound.messages(maxSize: 16 * 1024 * 1024)
    }

    /// Closes the TCP connection without a WebSocket close frame.
    func dropConnection() async {
        try? await channel.close()
    }
}

/// A WebSocket server on 127.0.0.1 with an ephemeral port, built on hummingbird-websocket (an
/// implementation independent of libwebsockets), running one script per accepted connection.
final class LWSTestWebSocketServer: Sendable {
    let port: Int
    /// Close codes the clients sent, read off the wire (plain `ws://` servers only).
    let clientCloseCodes: AsyncStream<UInt16>
    private let application: Task<Void, any Error>

    private init(port: Int, clientCloseCodes: AsyncStream<UInt16>, application: Task<Void, any Error>) {
        self.port = port
        self.clientCloseCodes = clientCloseCodes
        self.application = application
    }

    /// Starts the server and returns once it listens. `tls` serves `wss://` instead of `ws://`.
    static func start(
        tls: TLSConfiguration? = nil,
        script: @escaping @Sendable (LWSTestPeer) async throws -> Void
    ) async throws -> LWSTestWebSocketServer {
        let (closeCodes, closeCodeSink) = AsyncStream.makeStream(of: UInt16.self)
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let tapsCloseFrames = tls == nil
        let upgrade = HTTPServerBuilder.http1WebSocketUpgrade(
            configuration: .init(ws: .init(maxFrameSize: 1 << 20, autoPing: .disabled, closeTimeout: .seconds(5)))
        ) { _, channel, _ -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> in
            if tapsCloseFrames {
                // Called on the channel's event loop once the upgrade request is read: from here on every
                // inbound byte is a client WebSocket frame.
                try channel.pipeline.syncOperations.addHandler(
                    LWSCloseFrameTap(report: closeCodeSink), position: .first)
            }
            return .upgrade([:]) { inbound, outbound, _ in
                try await script(LWSTestPeer(inbound: inbound, outbound: outbound, channel: channel))
            }
        }
        var logger = Logger(label: "LWSTestWebSocketServer")
        logger.logLevel = .critical
        let application = Application(
            router: Router(),
            server: try tls.map { try .tls(upgrade, tlsConfiguration: $0) } ?? upgrade,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            },
            logger: logger
        )
        let task = Task { try await application.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            throw LWSTestServerError.didNotStart
        }
        return LWSTestWebSocketServer(port: port, clientCloseCodes: closeCodes, application: task)
    }

    func stop() async {
        application.cancel()
        _ = await application.result
    }
}

enum LWSTestServerError: Error {
    case didNotStart
}

/// Reads client WebSocket frames off the raw byte stream (before the server's own decoder) and
/// reports the status code of each close frame, so a test can see the code the client sent.
private final class LWSCloseFrameTap: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let report: AsyncStream<UInt16>.Continuation
    private var pending = ByteBuffer()

    init(report: AsyncStream<UInt16>.Continuation) {
        self.report = report
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        pending.writeBuffer(&bytes)
        parseFrames()
        context.fireChannelRead(data)
    }

    private func parseFrames() {
        while let view = pending.getBytes(at: pending.readerIndex, length: min(pending.readableBytes, 14)),
              view.count >= 2 {
            let opcode = view[0] & 0x0F
            let masked = view[1] & 0x80 != 0
            var headerLength = 2
            var payloadLength = Int(view[1] & 0x7F)
            if payloadLength == 126 {
                guard view.count >= 4 else { return }
                payloadLength = Int(view[2]) << 8 | Int(view[3])
                headerLength = 4
            } else if payloadLength == 127 {
                guard view.count >= 10 else { return }
                payloadLength = view[2..<10].reduce(0) { $0 << 8 | Int($1) }
                headerLength = 10
            }
            let maskLength = masked ? 4 : 0
            let total = headerLength + maskLength + payloadLength
            guard pending.readableBytes >= total else { return }
            if opcode == 0x8, payloadLength >= 2,
               let frame = pending.getBytes(at: pending.readerIndex, length: headerLength + maskLength + 2) {
                let mask = masked ? Array(frame[headerLength..<(headerLength + 4)]) : [0, 0, 0, 0]
                let high = frame[headerLength + maskLength] ^ mask[0]
                let low = frame[headerLength + maskLength + 1] ^ mask[1]
                report.yield(UInt16(high) << 8 | UInt16(low))
            }
            pending.moveReaderIndex(forwardBy: total)
            pending.discardReadBytes()
        }
    }
}
