@testable import AuthStore
import Testing

@Suite("Notifications")
struct NotificationTests {
    @Test("notifications are kept in order and filtered by user id", arguments: backends)
    func filter(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        let first = try await store.addNotification(userID: 42, kind: .accountDisabled, message: "Discord account disabled")
        clock.advance(seconds: 1)
        try await store.addNotification(userID: 7, kind: .linkRefused, message: "That Discord account is linked to another user")
        clock.advance(seconds: 1)
        try await store.addNotification(userID: 42, kind: .leftGuild, message: "You left the server")

        #expect(first.createdAt == TestWallClock().now.storePrecision)
        let all = try await store.notifications()
        #expect(all.map(\.userID) == [42, 7, 42])
        #expect(all.map(\.kind) == [.accountDisabled, .linkRefused, .leftGuild])
        #expect(all.first == first)
        let bruces = try await store.notifications(userID: 42)
        #expect(bruces.map(\.kind) == [.accountDisabled, .leftGuild])
        #expect(bruces.map(\.message) == ["Discord account disabled", "You left the server"])
        #expect(bruces[1].createdAt > bruces[0].createdAt)
        #expect(try await store.notifications(userID: 1).isEmpty)
    }

    @Test("kinds have the contract names")
    func kindNames() {
        #expect(AuthNotification.Kind.allCases.map(\.rawValue) == ["account_disabled", "left_guild", "link_refused"])
    }
}
