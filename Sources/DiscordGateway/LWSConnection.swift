import CLibWebSockets
import DiscordModels

/// The lws context pointer as seen from other threads. Only `lws_cancel_service` is called through it,
/// which libwebsockets documents as safe from any thread while the context exists; the service thread
/// takes the pointer out of `LWSConnection`'s lock before it destroys the context, and callers use it
/// only while holding that lock, so no call can reach a destroyed context.
struct LWSContextRef: @unchecked Sendable {
    let raw: OpaquePointer
}

/// One libwebsockets client connection, as the rest of Warden sees it.
///
/// This object is the meeting point of the Swift tasks (`send`, `close`, iterating `events`) and the
/// service thread run by `LWSServiceLoop`, which owns every C resource. Everything mutable sits in one
/// lock; tasks queue work there and wake the service thread with `lws_cancel_service`.
final class LWSConnection: WebSocketConnection {
    let events: AsyncStream<WebSocketEvent>
    private let eventSink: AsyncStream<WebSocketEvent>.Continuation
    private let state = Locked(LinkState())

    /// What the service thread should do on its next WRITEABLE callback.
    enum Outgoing {
        case nothing
        case close(UInt16)
        case message([UInt8], more: Bool)
    }

    private struct LinkState {
        enum Phase {
            case idle
            case connecting(CheckedContinuation<Void, any Error>)
            case open
            case ended
        }

        var phase = Phase.idle
        var context: LWSContextRef?
        /// Text messages not yet written, oldest first from `outboxHead`.
        var outbox: [[UInt8]] = []
        var outboxHead = 0
        var closeCode: UInt16?
        /// Why the connection is being torn down without a close handshake; nil while not aborted.
        var abortReason: AbortReason?

        var hasQueuedMessages: Bool { outboxHead < outbox.count }

        mutating func popMessage() -> [UInt8]? {
            guard outboxHead < outbox.count else { return nil }
            let message = outbox[outboxHead]
            outbox[outboxHead] = []
            outboxHead += 1
            if outboxHead == outbox.count {
                outbox.removeAll(keepingCapacity: true)
                outboxHead = 0
            } else if outboxHead >= 64, outboxHead * 2 >= outbox.count {
                outbox.removeFirst(outboxHead)
                outboxHead = 0
            }
            return message
        }
    }

    enum AbortReason: Sendable {
        /// The task awaiting `connect` was cancelled.
        case connectCancelled
        /// Nobody iterates `events` any more.
        case consumerGone

        var description: String {
            switch self {
            case .connectCancelled: "connect was cancelled"
            case .consumerGone: "the events consumer went away"
            }
        }
    }

    init() {
        (events, eventSink) = AsyncStream.makeStream(of: WebSocketEvent.self, bufferingPolicy: .unbounded)
        eventSink.onTermination = { [weak self] termination in
            if case .cancelled = termination {
                self?.abort(.consumerGone)
            }
        }
    }

    // MARK: Called from any task

    func send(text: [UInt8]) {
        state.withLock { state in
            guard case .open = state.phase, state.closeCode == nil, state.abortReason == nil else { return }
            state.outbox.append(text)
            if let context = state.context { lws_cancel_service(context.raw) }
        }
    }

    /// Codes that may not appear in a close frame (1004-1006, 1015, below 1000, above 4999) are sent as 1000.
    func close(code: UInt16) {
        let sendable = (1000...1003).contains(code) || (1007...1014).contains(code) || (3000...4999).contains(code)
        let code = sendable ? code : 1000
        state.withLock { state in
            switch state.phase {
            case .connecting, .open:
                guard state.closeCode == nil, state.abortReason == nil else { return }
                state.closeCode = code
                if let context = state.context { lws_cancel_service(context.raw) }
            case .idle, .ended:
                return
            }
        }
    }

    /// Tears the connection down without a close handshake (the service thread stops and destroys the
    /// context, which closes the socket).
    func abort(_ reason: AbortReason) {
        state.withLock { state in
            guard state.abortReason == nil else { return }
            if case .ended = state.phase { return }
            state.abortReason = reason
            if let context = state.context { lws_cancel_service(context.raw) }
        }
    }

    /// Runs `start` (which launches the service thread) and waits until the handshake completed or failed.
    func open(start: @Sendable () -> Void) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let proceed = state.withLock { state -> Bool in
                    guard state.abortReason == nil else { return false }
                    state.phase = .connecting(continuation)
                    return true
                }
                if proceed {
                    start()
                } else {
                    eventSink.finish()
                    continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            abort(.connectCancelled)
        }
    }

    // MARK: Called from the service thread only

    /// Publishes the context so other threads can wake the service thread. Returns true when the
    /// connection was aborted before the context existed.
    func attach(_ context: LWSContextRef) -> Bool {
        state.withLock { state in
            state.context = context
            return state.abortReason != nil
        }
    }

    /// Withdraws the context before it is destroyed; no other thread touches it after this returns.
    func detachContext() {
        state.withLock { $0.context = nil }
    }

    /// What the service thread was woken for: an abort, or something to write.
    func pendingRequests() -> (abort: Bool, write: Bool) {
        state.withLock { state in
            (state.abortReason != nil, state.closeCode != nil || state.hasQueuedMessages)
        }
    }

    /// The next thing to write. A requested close goes first: queued messages are dropped, since a
    /// connection being closed (often because it stopped answering) should not wait for them.
    func nextOutgoing() -> Outgoing {
        state.withLock { state in
            if let code = state.closeCode {
                state.outbox.removeAll()
                state.outboxHead = 0
                return .close(code)
            }
            guard let message = state.popMessage() else { return .nothing }
            return .message(message, more: state.hasQueuedMessages)
        }
    }

    /// The WebSocket handshake completed: `connect` returns.
    func markEstablished() {
        let continuation = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard case .connecting(let continuation) = state.phase else { return nil }
            state.phase = .open
            return continuation
        }
        continuation?.resume()
    }

    func deliver(_ event: WebSocketEvent) {
        eventSink.yield(event)
    }

    /// The connection is gone. Before the handshake completed, `connect` throws `connectFailure`
    /// (or `CancellationError` when it was cancelled); after it, the stream ends with `.closed`.
    /// Only the first call has an effect.
    func end(code: UInt16?, reason: String, connectFailure: String) {
        enum Ending {
            case none
            case failConnect(CheckedContinuation<Void, any Error>, cancelled: Bool)
            case close
        }
        let ending = state.withLock { state -> Ending in
            let previous = state.phase
            state.phase = .ended
            state.outbox.removeAll()
            state.outboxHead = 0
            switch previous {
            case .connecting(let continuation):
                return .failConnect(continuation, cancelled: state.abortReason == .connectCancelled)
            case .open:
                return .close
            case .idle, .ended:
                return .none
            }
        }
        switch ending {
        case .none:
            return
        case .failConnect(let continuation, let cancelled):
            eventSink.finish()
            if cancelled {
                continuation.resume(throwing: CancellationError())
            } else {
                continuation.resume(throwing: WebSocketConnectError(connectFailure))
            }
        case .close:
            eventSink.yield(.closed(code: code, reason: reason))
            eventSink.finish()
        }
    }

    /// Why the connection was aborted, if it was.
    var abortReason: AbortReason? {
        state.withLock { $0.abortReason }
    }
}
