import AuthModels
@testable import AuthStore
import DiscordModels
import Foundation
import PostgresTesting
import Testing

/// A wall clock the test moves by hand.
final class TestWallClock: Sendable {
    private let current: Locked<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_790_000_000)) { current = Locked(start) }

    var now: Date { current.withLock { $0 } }
    func advance(seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// A directory under the system's temporary folder, removed by `remove()`.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("warden-store-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// The databases the store suite runs against: SQLite always; PostgreSQL when installed, and always in
/// CI (where a missing server fails the tests rather than skipping them).
enum StoreBackendKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

let backends: [StoreBackendKind] = PostgresTestServer.availability ? [.sqlite, .postgres] : [.sqlite]

/// A new, empty store: SQLite in memory, or a database of its own on the test PostgreSQL server.
func makeStore(_ backend: StoreBackendKind, _ clock: TestWallClock = TestWallClock()) async throws -> AuthStore {
    switch backend {
    case .sqlite: try AuthStore.inMemory(now: { clock.now })
    case .postgres: try await AuthStore.connect(try await PostgresTestServer.makeDatabase(), now: { clock.now })
    }
}

extension AuthStore {
    /// Runs one statement as it is, in a write transaction of its own (tests poke at the schema).
    func execute(raw sql: String) async throws {
        _ = try await write { tx, _ in try tx.execute(sql, arguments: []) }
    }
}

/// Closes the store (which ends its change streams) and returns what the stream had received.
func drain(_ stream: AsyncStream<AuthStoreChange>, closing store: AuthStore) async throws -> [AuthStoreChange] {
    try store.close()
    var received: [AuthStoreChange] = []
    for await change in stream { received.append(change) }
    return received
}

let bruce = AuthUser(
    id: 42, username: "bruce_wayne", active: true, state: "Member", groups: ["Fleet Commanders", "Corp_WYE"],
    canAccessDiscord: true,
    mainCharacter: MainCharacter(characterID: 95_465_499, characterName: "Bruce Wayne", corporationID: 98_000_001,
                                 corporationName: "Wayne Enterprises", corporationTicker: "WYE", allianceID: 99_000_001,
                                 allianceName: "Justice League", allianceTicker: "JL"))

let clark = AuthUser(
    id: 7, username: "clark_kent", state: "Guest", groups: [],
    mainCharacter: MainCharacter(characterID: 9_001, characterName: "Clark Kent", corporationID: 98_000_002,
                                 corporationName: "Daily Planet", corporationTicker: "DP"))

let diana = AuthUser(id: 99, username: "diana", state: "Member", groups: ["Amazons"])

func discordUser(_ id: Snowflake, _ name: String, discriminator: String = "0", globalName: String? = nil) -> DiscordModels.User {
    DiscordModels.User(id: id, username: name, discriminator: discriminator, globalName: globalName)
}
