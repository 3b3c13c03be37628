import DiscordModels
import NIOCore

/// The open connections of Warden's HTTP server, at most `capacity` of them (`http.max_connections`,
/// SPEC 3.2), shared by every event loop of the server.
///
/// When a new connection arrives and the table is full, the connection that has kept the server waiting
/// longest (idle, or slowly sending a request: ``RequestDeadline/waitingSince``) is closed to make room.
/// A flood of slow or idle connections therefore cannot lock out a client that sends its request at once,
/// such as a health check: each newcomer pushes out the oldest waiter, and a prompt request is answered
/// long before it becomes the oldest. A connection whose request is being answered is never closed for
/// room; when every connection is busy, the newcomer is refused (503, then closed).
final class HTTPConnectionTable: Sendable {
    struct Entry {
        let channel: any Channel
        /// nil while busy: never closed to make room.
        var waitingSince: NIODeadline?
    }

    /// What happens to a new connection.
    enum Admission {
        /// It was added; `evicted` (closed by the caller) made room for it.
        case admitted(evicted: (any Channel)?)
        /// Full of busy connections: the caller refuses it.
        case refused
    }

    let capacity: Int
    private let entries = Locked<[ObjectIdentifier: Entry]>([:])

    init(capacity: Int) {
        precondition(capacity >= 1, "http.max_connections is at least 1")
        self.capacity = capacity
    }

    var count: Int { entries.withLock { $0.count } }

    /// Adds `channel`, waiting since `now`, making room if needed (see the type's description).
    func admit(_ channel: any Channel, at now: NIODeadline) -> Admission {
        entries.withLock { entries in
            var evicted: (any Channel)?
            if entries.count >= capacity {
                // The oldest waiter; O(capacity), only when full.
                guard let victim = entries.compactMap({ key, entry in entry.waitingSince.map { (key, $0) } })
                    .min(by: { $0.1 < $1.1 })?.0 else { return .refused }
                evicted = entries.removeValue(forKey: victim)?.channel
            }
            entries[ObjectIdentifier(channel)] = Entry(channel: channel, waitingSince: now)
            return .admitted(evicted: evicted)
        }
    }

    /// The connection's phase changed (``RequestDeadline/waitingSince``).
    func update(_ channel: any Channel, waitingSince: NIODeadline?) {
        entries.withLock { $0[ObjectIdentifier(channel)]?.waitingSince = waitingSince }
    }

    /// The connection closed (or was closed for room): forgotten. Idempotent.
    func remove(_ channel: any Channel) {
        _ = entries.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}
