import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// Keeps one HTTP connection to its ``RequestDeadline``: told of every event by two channel handlers
/// (``InboundBytesWatch`` before the HTTP decoder, ``RequestPartsWatch`` after it), it closes the
/// connection when the deadline passes and tells the ``HTTPConnectionTable`` how long it has been waiting.
///
/// Lives on the connection's event loop: the handlers call it from there only, and its timer runs there.
final class ConnectionWatch {
    private var state: RequestDeadline
    private let channel: any Channel
    private let table: HTTPConnectionTable
    private let onTimeout: () -> Void
    private var timer: Scheduled<Void>?
    private var stopped = false

    init(channel: any Channel, timeout: TimeAmount, openedAt now: NIODeadline, table: HTTPConnectionTable,
         onTimeout: @escaping () -> Void) {
        self.channel = channel
        self.state = RequestDeadline(timeout: timeout, openedAt: now)
        self.table = table
        self.onTimeout = onTimeout
    }

    func start() { armTimer() }

    func bytesReceived() { change { $0.bytesReceived(at: .now()) } }
    func requestHeadReceived() { change { $0.requestHeadReceived(at: .now()) } }
    func requestEndReceived() { change { $0.requestEndReceived(at: .now()) } }
    func responseEnded() { change { $0.responseEnded(at: .now()) } }

    /// The connection is going away: no more timer.
    func stop() {
        stopped = true
        timer?.cancel()
        timer = nil
    }

    private func change(_ body: (inout RequestDeadline) -> Void) {
        let before = state.waitingSince
        body(&state)
        let after = state.waitingSince
        // Most reads change nothing (more bytes of a request already timed): no lock taken for them.
        if after != before { table.update(channel, waitingSince: after) }
        armTimer()
    }

    /// One timer at a time. Deadlines only move later, so a timer that fires early re-arms for the current
    /// one; a busy connection (no deadline) is re-armed by the event that ends its busy phase.
    private func armTimer() {
        guard !stopped, timer == nil, let deadline = state.deadline else { return }
        timer = channel.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            guard !stopped, let deadline = state.deadline else { return }
            if NIODeadline.now() >= deadline {
                stop()
                onTimeout()
                channel.close(promise: nil)
            } else {
                armTimer()
            }
        }
    }
}

@available(*, unavailable)
extension ConnectionWatch: Sendable {}

/// First in the connection's pipeline: tells the watch that bytes arrived, before any HTTP decoding (a
/// request's head that never completes is timed from its first byte).
final class InboundBytesWatch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let watch: ConnectionWatch

    init(watch: ConnectionWatch) { self.watch = watch }

    func channelActive(context: ChannelHandlerContext) {
        watch.start()
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { watch.start() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        watch.bytesReceived()
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        watch.stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        watch.stop()
    }
}

@available(*, unavailable)
extension InboundBytesWatch: Sendable {}

/// After the HTTP decoder: tells the watch where requests begin and end and where responses end.
final class RequestPartsWatch: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let watch: ConnectionWatch

    init(watch: ConnectionWatch) { self.watch = watch }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: watch.requestHeadReceived()
        case .body: break
        case .end: watch.requestEndReceived()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { watch.responseEnded() }
        context.write(data, promise: promise)
    }
}

@available(*, unavailable)
extension RequestPartsWatch: Sendable {}
