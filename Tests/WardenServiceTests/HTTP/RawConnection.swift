import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
@testable import WardenService

/// A raw TCP client on loopback, for the clients a browser never is: one that sends a byte at a time,
/// one that sends half a request and stops, one that keeps its connection idle. Every wait is for an
/// event (bytes received, the connection closed), bounded by a time limit that only fails the test.
final class RawConnection: Sendable {
    let channel: any Channel
    private let state: TestBox<State>

    struct State {
        var received: [UInt8] = []
        var closed = false
        var sent = 0
        var waiters: [(predicate: @Sendable (String, Bool) -> Bool, resume: @Sendable (Bool) -> Void)] = []
    }

    private init(channel: any Channel, state: TestBox<State>) {
        self.channel = channel
        self.state = state
    }

    /// Connects to 127.0.0.1:`port`. `first` is written, then `drip` sent one byte every `interval`, on the
    /// channel's event loop as soon as it is connected: a test task held up on a loaded machine cannot let
    /// the server's idle timeout pass before the client has even begun (that closed the connection under
    /// the test, which then wrote to a closed channel).
    static func open(port: Int, sending first: String? = nil, thenDripping drip: String? = nil,
                     every interval: TimeAmount = .milliseconds(50)) async throws -> RawConnection {
        let state = TestBox(State())
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector(state: state)) }
            }
            .connect(host: "127.0.0.1", port: port)
            .flatMap { channel in
                let written = first.map { channel.writeAndFlush(ByteBuffer(string: $0)) } ?? channel.eventLoop.makeSucceededVoidFuture()
                return written.map {
                    if let drip { Self.drip(drip, every: interval, on: channel, counting: state) }
                    return channel
                }
            }
            .get()
        return RawConnection(channel: channel, state: state)
    }

    /// Everything received so far, as text.
    var received: String { String(decoding: state.current.received, as: UTF8.self) }
    var isClosed: Bool { state.current.closed }
    /// Bytes written by the drip so far.
    var dripped: Int { state.current.sent }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// Writes `text` one byte every `interval`, until it is all sent or the connection closes.
    private static func drip(_ text: String, every interval: TimeAmount, on channel: any Channel, counting state: TestBox<State>) {
        let bytes = Array(text.utf8)
        channel.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { task in
            let index = state.withLock { $0.sent }
            guard index < bytes.count, channel.isActive else { task.cancel(); return }
            state.withLock { $0.sent += 1 }
            channel.writeAndFlush(ByteBuffer(bytes: [bytes[index]]), promise: nil)
        }
    }

    /// Waits until the server closed the connection; false if it did not within `limit`.
    func waitForClose(within limit: Duration = .seconds(30)) async -> Bool {
        await waitFor(within: limit) { _, closed in closed }
        return isClosed
    }

    /// Waits until a whole response whose body ends with `ending` arrived (or the connection closed);
    /// returns what was received.
    @discardableResult
    func waitForResponse(endingWith ending: String, within limit: Duration = .seconds(30)) async -> String {
        await waitFor(within: limit) { text, closed in closed || (text.contains("\r\n\r\n") && text.hasSuffix(ending)) }
        return received
    }

    private func waitFor(within limit: Duration, _ predicate: @escaping @Sendable (String, Bool) -> Bool) async {
        let state = self.state
        let eventLoop = channel.eventLoop
        _ = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let once = TestBox(false)
            let resume: @Sendable (Bool) -> Void = { value in
                guard once.withLock({ let first = !$0; $0 = true; return first }) else { return }
                continuation.resume(returning: value)
            }
            let satisfied = state.withLock { state -> Bool in
                if predicate(String(decoding: state.received, as: UTF8.self), state.closed) { return true }
                state.waiters.append((predicate, resume))
                return false
            }
            if satisfied { resume(true); return }
            eventLoop.scheduleTask(in: .nanoseconds(Int64(limit.components.seconds) * 1_000_000_000 + limit.components.attoseconds / 1_000_000_000)) {
                resume(false)
            }
        }
    }

    func close() async {
        try? await channel.close()
    }

    /// Records what arrives and wakes the waiters whose condition now holds.
    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let state: TestBox<State>

        init(state: TestBox<State>) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = Self.unwrapInboundIn(data)
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            update { $0.received += bytes }
        }

        func channelInactive(context: ChannelHandlerContext) {
            update { $0.closed = true }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }

        private func update(_ change: (inout State) -> Void) {
            let ready = state.withLock { state -> [@Sendable (Bool) -> Void] in
                change(&state)
                let text = String(decoding: state.received, as: UTF8.self)
                let (done, waiting) = (state.waiters.filter { $0.predicate(text, state.closed) }, state.waiters.filter { !$0.predicate(text, state.closed) })
                state.waiters = waiting
                return done.map(\.resume)
            }
            for resume in ready { resume(true) }
        }
    }
}

extension HTTPHarness {
    /// Runs the real server (Hummingbird on a loopback port) for `body`, then stops it.
    func live<T: Sendable>(_ body: @Sendable (Int) async throws -> T) async throws -> T {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = try server { port in continuation.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "test")))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            do {
                let value = try await body(port)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return value
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }
}

/// Lets a test hold something (a failed login's delay) until it says go, and know when it is held.
final class Gate: Sendable {
    private let state = TestBox<(open: Bool, held: [CheckedContinuation<Void, Never>])>((false, []))
    let entered: AsyncStream<Void>
    private let enteredSink: AsyncStream<Void>.Continuation

    init() { (entered, enteredSink) = AsyncStream<Void>.makeStream() }

    /// Waits (suspended) until ``open()``.
    func pass() async {
        await withCheckedContinuation { continuation in
            let isOpen = state.withLock { state -> Bool in
                if !state.open { state.held.append(continuation) }
                return state.open
            }
            enteredSink.yield()
            if isOpen { continuation.resume() }
        }
    }

    func open() {
        for continuation in state.withLock({ state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.held = [] }
            return state.held
        }) { continuation.resume() }
    }

    /// Waits until `count` callers are held.
    func waitUntilHeld(_ count: Int) async {
        var iterator = entered.makeAsyncIterator()
        for _ in 0..<count { _ = await iterator.next() }
    }
}
