import AuthModels
@testable import AuthStore
import DiscordModels
import Foundation

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

func makeStore(_ clock: TestWallClock = TestWallClock()) throws -> AuthStore {
    try AuthStore.inMemory(now: { clock.now })
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
