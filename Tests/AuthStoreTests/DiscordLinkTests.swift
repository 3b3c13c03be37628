import AuthModels
@testable import AuthStore
import DiscordModels
import Foundation
import GRDB
import Testing

@Suite("Discord links")
struct DiscordLinkTests {
    @Test("a link is stored with the account's names and found by user id and by uid", arguments: backends)
    func linkAndFind(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        try await store.upsert(bruce)
        let link = try await store.link(userID: 42, to: discordUser(1001, "batman", discriminator: "0", globalName: "Bruce"))
        #expect(link == DiscordLink(userID: 42, uid: 1001, username: "batman", discriminator: "0", globalName: "Bruce",
                                    activatedAt: clock.now.storePrecision))
        #expect(try await store.discordLink(userID: 42) == link)
        #expect(try await store.discordLink(uid: 1001) == link)
        #expect(try await store.discordLink(uid: 1002) == nil)
        #expect(try await store.linkCount() == 1)
        let linked = LinkedUser(stored: try #require(try await store.user(id: 42)), link: link)
        #expect(try await store.linkedUsers() == [linked])
        #expect(try await store.linkedUser(uid: 1001) == linked)
        #expect(try await store.linkedUser(uid: 1002) == nil)
    }

    @Test("linking the same pair again keeps the activation time and refreshes the names", arguments: backends)
    func relinkSamePair(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        try await store.upsert(bruce)
        let first = try await store.link(userID: 42, to: discordUser(1001, "batman"))
        clock.advance(seconds: 30)
        let again = try await store.link(userID: 42, to: discordUser(1001, "darkknight"))
        #expect(again.activatedAt == first.activatedAt)
        #expect(again.username == "darkknight")
    }

    @Test("one Auth user per Discord account: a second user linking the same uid is refused", arguments: backends)
    func oneUserPerAccount(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        try await store.upsert(bruce)
        try await store.upsert(clark)
        try await store.link(userID: 42, to: discordUser(1001, "batman"))
        await #expect(throws: AuthStoreError.discordAccountLinkedToAnotherUser(uid: 1001, userID: 42)) {
            try await store.link(userID: 7, to: discordUser(1001, "batman"))
        }
        #expect(try await store.discordLink(userID: 7) == nil)
        #expect(try await store.discordLink(uid: 1001)?.userID == 42)
    }

    @Test("one Discord account per Auth user: linking a second account is refused", arguments: backends)
    func oneAccountPerUser(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        try await store.upsert(bruce)
        try await store.link(userID: 42, to: discordUser(1001, "batman"))
        await #expect(throws: AuthStoreError.userLinkedToAnotherAccount(userID: 42, uid: 1001)) {
            try await store.link(userID: 42, to: discordUser(2002, "robin"))
        }
        #expect(try await store.discordLink(uid: 2002) == nil)
        // After an unlink the user may link another account.
        try await store.unlink(.user(42))
        #expect(try await store.link(userID: 42, to: discordUser(2002, "robin")).uid == 2002)
    }

    @Test("a link needs a stored Auth user", arguments: backends)
    func unknownUser(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        await #expect(throws: AuthStoreError.unknownUser(5)) {
            try await store.link(userID: 5, to: discordUser(1001, "x"))
        }
        await #expect(throws: AuthStoreError.unknownUser(5)) {
            try await store.recordEnforcement(EnforcementOutcome(userID: 5, state: .ok))
        }
    }

    @Test("an import through a record obeys the same rules, names the discord field and changes nothing", arguments: backends)
    func importRules(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        let imported = try await store.upsert(AuthUserImport(user: bruce, discordUID: 1001))
        #expect(imported.importedLink?.uid == 1001)
        #expect(imported.importedLink?.username == nil, "an imported link's names come later from the gateway cache")
        #expect(imported.importedLink?.display == nil)

        // The same import again is not a new link.
        let again = try await store.upsert(AuthUserImport(user: bruce, discordUID: 1001))
        #expect(again.importedLink == nil)
        #expect(!again.isChange)

        // A record without discord leaves the link alone.
        try await store.upsert(bruce)
        #expect(try await store.discordLink(userID: 42)?.uid == 1001)

        let stolen = AuthUserImport(user: clark, discordUID: 1001)
        do {
            try await store.upsert(stolen)
            Issue.record("a second user was linked to the same account")
        } catch let error as AuthStoreError {
            #expect(error == .discordAccountLinkedToAnotherUser(uid: 1001, userID: 42))
            #expect(error.field == "discord")
        }
        #expect(try await store.user(id: 7) == nil, "the refused record itself is not stored either")

        await #expect(throws: AuthStoreError.userLinkedToAnotherAccount(userID: 42, uid: 1001)) {
            try await store.upsert(AuthUserImport(user: bruce, discordUID: 2002))
        }
    }

    @Test("the schema itself refuses a second link of a uid and a second link of a user", arguments: backends)
    func schemaConstraints(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        try await store.upsert(bruce)
        try await store.upsert(clark)
        try await store.link(userID: 42, to: discordUser(1001, "batman"))
        for (user, uid) in [(7, 1001), (42, 2002)] {
            do {
                try await store.execute(raw: "INSERT INTO discord_link (user_id, uid, activated_at) VALUES (\(user), \(uid), 0)")
                Issue.record("the schema accepted link \(user) → \(uid)")
            } catch let error as DatabaseError {
                #expect(error.resultCode == .SQLITE_CONSTRAINT)
            } catch let error as AuthStoreError {
                #expect(error.description.contains("23505"), "a unique violation: \(error)")
            }
        }
        #expect(try await store.discordLinks().count == 1)
    }

    @Test("unlink by user or by uid, recording a notification in the same transaction", arguments: backends)
    func unlink(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        try await store.upsert(bruce)
        try await store.upsert(clark)
        try await store.link(userID: 42, to: discordUser(1001, "batman"))
        try await store.link(userID: 7, to: discordUser(2002, "superman"))
        let stream = store.changes()

        let removed = try await store.unlink(.uid(1001), notification: (.leftGuild, "You left the Discord server"))
        #expect(removed?.userID == 42)
        #expect(try await store.discordLink(userID: 42) == nil)
        #expect(try await store.user(id: 42) != nil, "the Auth record stays")
        let notes = try await store.notifications(userID: 42)
        #expect(notes.map(\.kind) == [.leftGuild])
        #expect(notes.first?.message == "You left the Discord server")

        #expect(try await store.unlink(.user(7))?.uid == 2002)
        #expect(try await store.unlink(.user(7), notification: (.accountDisabled, "x")) == nil)
        #expect(try await store.notifications(userID: 7).isEmpty, "no link, no notification")
        #expect(try await drain(stream, closing: store) == [.unlinked(userID: 42, uid: 1001), .unlinked(userID: 7, uid: 2002)])
    }

    @Test("stored usernames are refreshed from the cache, reporting whether anything changed", arguments: backends)
    func profileRefresh(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        try await store.upsert(AuthUserImport(user: bruce, discordUID: 1001))
        try await store.upsert(clark)
        try await store.link(userID: 7, to: discordUser(2002, "kal", discriminator: "1938"))
        #expect(try await store.discordLink(userID: 7)?.display == "kal#1938")

        #expect(try await store.updateDiscordProfile(discordUser(1001, "batman", globalName: "Bruce")))
        #expect(try await !store.updateDiscordProfile(discordUser(1001, "batman", globalName: "Bruce")), "same names: no change")
        #expect(try await !store.updateDiscordProfile(discordUser(9999, "nobody")), "not linked")
        let link = try #require(try await store.discordLink(uid: 1001))
        #expect(link.username == "batman" && link.discriminator == "0" && link.globalName == "Bruce")
        #expect(link.display == "@batman")

        let changed = try await store.updateDiscordProfiles([
            discordUser(1001, "batman", globalName: "Bruce"),
            discordUser(2002, "superman"),
            discordUser(9999, "nobody"),
        ])
        #expect(changed == 1)
        #expect(try await store.discordLink(uid: 2002)?.display == "@superman")
        #expect(try await store.discordLink(uid: 2002)?.globalName == nil)
    }

    @Test("uids above Int64.max survive the round trip", arguments: backends)
    func largeSnowflake(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        try await store.upsert(bruce)
        let uid = Snowflake(UInt64.max - 5)
        try await store.link(userID: 42, to: discordUser(uid, "edge"))
        #expect(try await store.discordLink(uid: uid)?.userID == 42)
        #expect(try await store.discordLink(userID: 42)?.uid == uid)
    }
}
