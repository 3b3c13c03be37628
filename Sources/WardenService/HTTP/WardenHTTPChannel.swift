import HummingbirdCore
import Logging
import NIOCore

/// What the server does with connections (SPEC 3.2): `http.idle_timeout` and `http.max_connections`,
/// with the table of open connections and the counters of those it closed.
struct HTTPConnectionLimits: Sendable {
    /// `http.idle_timeout`: the longest a connection may stay idle, and the longest one request may take to arrive.
    let idleTimeout: TimeAmount
    let table: HTTPConnectionTable
    let metrics: WardenMetrics
    let logger: Logger

    init(idleTimeout: Duration, maxConnections: Int, metrics: WardenMetrics, logger: Logger) {
        self.idleTimeout = .nanoseconds(idleTimeout.nanoseconds)
        self.table = HTTPConnectionTable(capacity: maxConnections)
        self.metrics = metrics
        self.logger = logger
    }

    /// Closed for keeping the server waiting (idle, or too slow to send a request).
    func timedOut(_ remote: SocketAddress?) {
        metrics.httpConnectionClosed(reason: .idleTimeout)
        logger.debug("closed an HTTP connection: idle or too slow to send its request", metadata: ["client": "\(Self.describe(remote))"])
    }

    /// Closed to make room for a new connection.
    func evicted(_ remote: SocketAddress?) {
        metrics.httpConnectionClosed(reason: .evicted)
        logger.debug("closed the longest-waiting HTTP connection to make room", metadata: ["client": "\(Self.describe(remote))"])
    }

    /// Refused: every connection was busy with a request.
    func refused(_ remote: SocketAddress?) {
        metrics.httpConnectionClosed(reason: .refused)
        logger.debug("refused an HTTP connection: http.max_connections are all busy", metadata: ["client": "\(Self.describe(remote))"])
    }

    /// The address without the port (`127.0.0.1`, `::1`), or `unknown`.
    static func describe(_ address: SocketAddress?) -> String {
        address?.ipAddress ?? "unknown"
    }

    /// What a refused connection gets before it is closed.
    static let busyAnswer: String = {
        let body = "too many open connections\n"
        return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Length: \(body.utf8.count)\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + body
    }()
}

/// Warden's HTTP/1.1 connections: Hummingbird's `HTTP1Channel` with ``HTTPConnectionLimits`` around it.
/// Each connection is admitted to the ``HTTPConnectionTable`` (possibly closing the longest-waiting one)
/// and watched by a ``ConnectionWatch``, whose handlers sit before the HTTP decoder (raw bytes) and after
/// it (request and response parts). Hummingbird's own idle timeout is left off: it restarts on every part
/// of a request body, so a body sent a byte at a time would never be cut off.
struct WardenHTTPChannel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let responder: HTTPChannelHandler.Responder
    let limits: HTTPConnectionLimits

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let limits = self.limits
        let table = limits.table
        switch table.admit(channel, at: .now()) {
        case .refused:
            limits.refused(channel.remoteAddress)
            // The setup must succeed: NIO registers (and so can close) only a channel whose setup did. The
            // refusal handler answers and closes it as soon as it is active; Hummingbird sees it end.
            do {
                try channel.pipeline.syncOperations.addHandler(RefusedConnection())
                return HTTP1Channel(responder: responder).setup(channel: channel, logger: logger)
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        case .admitted(let evicted):
            if let evicted {
                limits.evicted(evicted.remoteAddress)
                evicted.close(promise: nil)
            }
        }
        // Captures the channel, so no other connection can reuse its identity before it is removed.
        channel.closeFuture.whenComplete { _ in table.remove(channel) }
        do {
            let remote = channel.remoteAddress
            let watch = ConnectionWatch(channel: channel, timeout: limits.idleTimeout, openedAt: .now(), table: table,
                                        onTimeout: { limits.timedOut(remote) })
            try channel.pipeline.syncOperations.addHandler(InboundBytesWatch(watch: watch))
            let parts = NIOLoopBound(RequestPartsWatch(watch: watch), eventLoop: channel.eventLoop)
            let http1 = HTTP1Channel(responder: responder, configuration: .init(additionalChannelHandlers: [parts.value]))
            return http1.setup(channel: channel, logger: logger)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await HTTP1Channel(responder: responder).handle(value: value, logger: logger)
    }
}

/// First in a refused connection's pipeline: answers 503 (``HTTPConnectionLimits/busyAnswer``) once the
/// connection is active, closes it, and lets nothing it sends reach the HTTP handlers.
final class RefusedConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var answered = false

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { answer(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        answer(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private func answer(_ context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: HTTPConnectionLimits.busyAnswer))).whenComplete { _ in
            loopBound.value.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension RefusedConnection: Sendable {}
