import DiscordGateway
import Foundation

/// Items that arrive from any task; a test awaits the next one with a timeout (never a sleep to wait).
final class Inbox<Item: Sendable>: @unchecked Sendable {
    // @unchecked: every stored property is read and written only under `lock`.
    private let lock = NSLock()
    private var items: [Item] = []
    private var history: [Item] = []
    private var waiter: (id: UInt64, continuation: CheckedContinuation<Item?, Never>)?
    private var nextID: UInt64 = 0

    func put(_ item: Item) {
        lock.lock()
        history.append(item)
        if let waiter {
            self.waiter = nil
            lock.unlock()
            waiter.continuation.resume(returning: item)
            return
        }
        items.append(item)
        lock.unlock()
    }

    /// Everything ever put, in order.
    var all: [Item] { lock.withLock { history } }

    /// The next item, or nil when none came within `timeout` (real time: only a bound for a broken test,
    /// never a wait; generous because a loaded 2-core machine can stall a test for tens of seconds).
    func next(timeout: Duration = .seconds(60)) async -> Item? {
        if let item = lock.withLock({ items.isEmpty ? nil : items.removeFirst() }) { return item }
        return await withTaskGroup(of: Item?.self) { group in
            group.addTask { await self.take() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// Skips items until one matches.
    func next(timeout: Duration = .seconds(60), where predicate: (Item) -> Bool) async -> Item? {
        while let item = await next(timeout: timeout) {
            if predicate(item) { return item }
        }
        return nil
    }

    private func take() async -> Item? {
        let id: UInt64 = lock.withLock {
            nextID += 1
            return nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Item?, Never>) in
                lock.lock()
                if !items.isEmpty {
                    let item = items.removeFirst()
                    lock.unlock()
                    continuation.resume(returning: item)
                } else if Task.isCancelled {
                    lock.unlock()
                    continuation.resume(returning: nil)
                } else {
                    waiter = (id, continuation)
                    lock.unlock()
                }
            }
        } onCancel: {
            lock.lock()
            if let waiter, waiter.id == id {
                self.waiter = nil
                lock.unlock()
                waiter.continuation.resume(returning: nil)
            } else {
                lock.unlock()
            }
        }
    }
}

/// One scripted connection: the test plays the gateway's side.
final class FakeConnection: WebSocketConnection {
    let url: String
    let events: AsyncStream<WebSocketEvent>
    private let continuation: AsyncStream<WebSocketEvent>.Continuation
    /// What the client sent, in order.
    let sent = Inbox<[UInt8]>()
    /// The close codes the client asked for.
    let closes = Inbox<UInt16>()

    init(url: String) {
        self.url = url
        (events, continuation) = AsyncStream.makeStream(of: WebSocketEvent.self)
    }

    func send(text: [UInt8]) { sent.put(text) }

    func close(code: UInt16) {
        closes.put(code)
        continuation.yield(.closed(code: code, reason: ""))
        continuation.finish()
    }

    // The gateway's side.
    func serverSends(_ json: String) { continuation.yield(.message(Array(json.utf8), binary: false)) }
    func serverSendsBinary(_ bytes: [UInt8]) { continuation.yield(.message(bytes, binary: true)) }
    func serverCloses(code: UInt16?) {
        continuation.yield(.closed(code: code, reason: ""))
        continuation.finish()
    }

    /// The next payload the client sent, decoded.
    func nextSent(timeout: Duration = .seconds(60)) async -> SentPayload? {
        guard let bytes = await sent.next(timeout: timeout) else { return nil }
        return try? SentPayload(bytes)
    }
}

struct FakeAttempt: Sendable {
    let url: String
    /// nil when the attempt was scripted to fail.
    let connection: FakeConnection?
}

/// A WebSocket transport whose connects succeed with a `FakeConnection` or fail as scripted.
final class FakeTransport: WebSocketTransport, @unchecked Sendable {
    // @unchecked: `failuresLeft` is only touched under `lock`; `attempts` is itself thread-safe.
    private let lock = NSLock()
    private var failuresLeft = 0
    let attempts = Inbox<FakeAttempt>()

    /// The next `count` connects throw.
    func failNextConnects(_ count: Int) { lock.withLock { failuresLeft = count } }

    func connect(to url: String) async throws -> any WebSocketConnection {
        let fail: Bool = lock.withLock {
            guard failuresLeft > 0 else { return false }
            failuresLeft -= 1
            return true
        }
        if fail {
            attempts.put(FakeAttempt(url: url, connection: nil))
            throw WebSocketConnectError("scripted failure")
        }
        let connection = FakeConnection(url: url)
        attempts.put(FakeAttempt(url: url, connection: connection))
        return connection
    }
}

/// Collects a client's events so a test can await them.
final class EventLog: Sendable {
    let inbox = Inbox<GatewayEvent>()
    private let task: Task<Void, Never>

    init(_ events: AsyncStream<GatewayEvent>) {
        let inbox = self.inbox
        task = Task {
            for await event in events { inbox.put(event) }
        }
    }

    deinit { task.cancel() }

    func next(where predicate: @escaping (GatewayEvent) -> Bool) async -> GatewayEvent? {
        await inbox.next(where: predicate)
    }

    /// Waits until the dispatch with this sequence was delivered.
    func wait(forSequence sequence: Int) async -> Bool {
        await inbox.next(where: { if case .dispatch(_, sequence) = $0 { true } else { false } }) != nil
    }

    func wait(for event: GatewayEvent) async -> Bool {
        await inbox.next(where: { $0 == event }) != nil
    }
}
