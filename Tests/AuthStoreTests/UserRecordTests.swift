import AuthModels
@testable import AuthStore
import DiscordModels
import Foundation
import Testing

@Suite("Auth user records")
struct UserRecordTests {
    @Test("an upsert stores the whole SPEC 1.1 record and reads it back equal", arguments: backends)
    func roundTrip(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        let result = try await store.upsert(bruce)
        #expect(result.change == .created)
        #expect(result.stored.user == bruce)
        #expect(result.stored.updatedAt == clock.now.storePrecision)

        let stored = try #require(try await store.user(id: 42))
        #expect(stored == result.stored)
        #expect(stored.user.groups == ["Fleet Commanders", "Corp_WYE"], "groups keep Auth's order")
        #expect(try await store.user(id: 1) == nil)

        // No main character, no alliance, no groups.
        let bare = AuthUser(id: 5, username: "x", active: false, state: "Guest", canAccessDiscord: false)
        try await store.upsert(bare)
        try await store.upsert(clark)
        #expect(try await store.user(id: 5)?.user == bare)
        #expect(try await store.user(id: 7)?.user == clark)
        #expect(try await store.user(id: 7)?.user.mainCharacter?.allianceID == nil)
    }

    @Test("an upsert says whether the stored record changed; only a change bumps the revision and the time", arguments: backends)
    func changeDetection(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        let first = try await store.upsert(bruce)
        clock.advance(seconds: 60)

        let again = try await store.upsert(bruce)
        #expect(again.change == .unchanged)
        #expect(!again.isChange)
        #expect(again.stored.revision == first.stored.revision)
        #expect(again.stored.updatedAt == first.stored.updatedAt)

        var moved = bruce
        moved.groups = ["Corp_WYE"]
        let changed = try await store.upsert(moved)
        #expect(changed.change == .changed)
        #expect(changed.stored.revision > first.stored.revision)
        #expect(changed.stored.updatedAt == clock.now.storePrecision)
        #expect(try await store.user(id: 42)?.user.groups == ["Corp_WYE"])

        // A change to another user still gets a larger revision: revisions are store-wide.
        let other = try await store.upsert(diana)
        #expect(other.stored.revision > changed.stored.revision)
        #expect(try await store.currentRevision() == other.stored.revision)
    }

    @Test("a changed record keeps its link and enforcement record (an upsert never deletes the row)", arguments: backends)
    func changeKeepsDependents(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        try await store.upsert(AuthUserImport(user: bruce, discordUID: 1001))
        try await store.recordEnforcement(EnforcementOutcome(userID: 42, discordUID: 1001, state: .skipped, reason: "owner"))
        var demoted = bruce
        demoted.state = "Guest"
        demoted.mainCharacter = nil
        #expect(try await store.upsert(demoted).change == .changed)
        #expect(try await store.discordLink(userID: 42)?.uid == 1001)
        #expect(try await store.enforcement(userID: 42)?.reason == "owner")
        #expect(try await store.user(id: 42)?.user == demoted)
    }

    @Test("the change stream reports changed users, deletions and links, in commit order, and not unchanged upserts", arguments: backends)
    func changeStream(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        let stream = store.changes()
        let created = try await store.upsert(bruce)
        try await store.upsert(bruce)
        try await store.link(userID: 42, to: discordUser(80_351_110_224_678_912, "bruce"))
        try await store.deleteUser(id: 42)
        try await store.deleteUser(id: 42)

        let received = try await drain(stream, closing: store)
        #expect(received == [
            .userChanged(id: 42, revision: created.stored.revision),
            .linked(userID: 42, uid: 80_351_110_224_678_912),
            .userDeleted(id: 42, uid: 80_351_110_224_678_912),
        ])
    }

    @Test("every subscriber gets every change; a stream asked for after close ends at once", arguments: backends)
    func subscribers(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        let first = store.changes()
        let second = store.changes()
        let result = try await store.upsert(diana)
        try store.close()
        var a: [AuthStoreChange] = []
        for await change in first { a.append(change) }
        var b: [AuthStoreChange] = []
        for await change in second { b.append(change) }
        #expect(a == [.userChanged(id: 99, revision: result.stored.revision)])
        #expect(b == a)
        var late = 0
        for await _ in store.changes() { late += 1 }
        #expect(late == 0)
    }

    @Test("a refused write publishes nothing", arguments: backends)
    func refusedWritePublishesNothing(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        try await store.upsert(diana)
        let stream = store.changes()
        await #expect(throws: AuthStoreError.self) {
            try await store.upsert([AuthUserImport(user: bruce), AuthUserImport(user: AuthUser(id: 3, username: "", state: "Member"))])
        }
        #expect(try await drain(stream, closing: store).isEmpty)
    }

    @Test("records that break SPEC 1.1 are refused naming the field, and change nothing", arguments: backends)
    func validation(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        let cases: [(AuthUser, String)] = [
            (AuthUser(id: 0, username: "a", state: "Member"), "id"),
            (AuthUser(id: 1, username: "", state: "Member"), "username"),
            (AuthUser(id: 1, username: "a", state: ""), "state"),
            (AuthUser(id: 1, username: "a", state: "Member", groups: ["ok", ""]), "groups"),
        ]
        for (user, field) in cases {
            do {
                try await store.upsert(user)
                Issue.record("record with a bad \(field) was stored")
            } catch let error as AuthStoreError {
                #expect(error.field == field)
            }
        }
        #expect(try await store.users().isEmpty)
    }

    @Test("listing gives every record with its groups, ordered by id", arguments: backends)
    func listing(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        try await store.upsert([AuthUserImport(user: diana), AuthUserImport(user: bruce), AuthUserImport(user: clark)])
        let users = try await store.users()
        #expect(users.map(\.user) == [clark, bruce, diana])
    }

    @Test("group and state names of all records, for the strip policy", arguments: backends)
    func groupAndStateNames(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        #expect(try await store.groupAndStateNames().isEmpty)
        try await store.upsert([AuthUserImport(user: bruce), AuthUserImport(user: clark), AuthUserImport(user: diana)])
        #expect(try await store.groupAndStateNames() == ["Fleet Commanders", "Corp_WYE", "Member", "Guest", "Amazons"])
        try await store.deleteUser(id: 99)
        #expect(try await store.groupAndStateNames() == ["Fleet Commanders", "Corp_WYE", "Member", "Guest"])
    }

    @Test("deleting a user removes its record, link and enforcement record but keeps its notifications", arguments: backends)
    func deletion(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        try await store.upsert(bruce)
        try await store.upsert(clark)
        try await store.link(userID: 42, to: discordUser(1001, "bruce"))
        try await store.recordEnforcement(EnforcementOutcome(userID: 42, discordUID: 1001, state: .failed, reason: "HTTP 500"))
        try await store.addNotification(userID: 42, kind: .accountDisabled, message: "Discord account disabled")

        let removed = try #require(try await store.deleteUser(id: 42))
        #expect(removed.stored.user == bruce)
        #expect(removed.link?.uid == 1001)
        #expect(removed.enforcement?.state == .failed)

        #expect(try await store.user(id: 42) == nil)
        #expect(try await store.discordLink(userID: 42) == nil)
        #expect(try await store.discordLink(uid: 1001) == nil)
        #expect(try await store.enforcement(userID: 42) == nil)
        #expect(try await store.enforcement(discordUID: 1001) == nil)
        #expect(try await store.notifications(userID: 42).map(\.kind) == [.accountDisabled])
        #expect(try await store.users().map(\.user.id) == [7])
        #expect(try await store.deleteUser(id: 42) == nil)
        #expect(try await store.health().isHealthy)
    }

    @Test("the overview gives record, link and enforcement together", arguments: backends)
    func overview(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        #expect(try await store.overview(userID: 42) == nil)
        try await store.upsert(bruce)
        var overview = try #require(try await store.overview(userID: 42))
        #expect(overview.link == nil && overview.enforcement == nil)
        try await store.link(userID: 42, to: discordUser(1001, "bruce"))
        try await store.recordEnforcement(EnforcementOutcome(userID: 42, discordUID: 1001, state: .ok))
        overview = try #require(try await store.overview(userID: 42))
        #expect(overview.stored.user == bruce)
        #expect(overview.link?.display == "@bruce")
        #expect(overview.enforcement?.state == .ok)
    }
}

@Suite("Batch upserts")
struct BatchUpsertTests {
    @Test("a batch is stored in one transaction", arguments: backends)
    func batch(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        let results = try await store.upsert([AuthUserImport(user: bruce), AuthUserImport(user: clark, discordUID: 2002)])
        #expect(results.map(\.change) == [.created, .created])
        #expect(results[1].importedLink?.uid == 2002)
        #expect(try await store.users().count == 2)
        #expect(try await store.discordLink(uid: 2002)?.userID == 7)
    }

    @Test("a bad record rolls back the whole batch: records, groups, links and revisions stay as they were", arguments: backends)
    func rollback(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        try await store.upsert(AuthUserImport(user: diana, discordUID: 3003))
        let before = try await store.users()
        let revision = try await store.currentRevision()

        var changedDiana = diana
        changedDiana.groups = ["Themyscira"]
        let batch = [
            AuthUserImport(user: bruce, discordUID: 1001),
            AuthUserImport(user: changedDiana),
            AuthUserImport(user: clark, discordUID: 3003), // Diana's account: refused
        ]
        await #expect(throws: AuthStoreError.batchRecord(index: 2, .discordAccountLinkedToAnotherUser(uid: 3003, userID: 99))) {
            try await store.upsert(batch)
        }
        #expect(try await store.users() == before)
        #expect(try await store.currentRevision() == revision)
        #expect(try await store.discordLinks().map(\.uid) == [3003])
        #expect(try await store.groupAndStateNames() == ["Amazons", "Member"])

        // An invalid record and a repeated id are refused the same way.
        await #expect(throws: AuthStoreError.batchRecord(index: 1, .invalidRecord(userID: 42, field: "id", reason: "appears more than once in the batch"))) {
            try await store.upsert([AuthUserImport(user: bruce), AuthUserImport(user: bruce)])
        }
        #expect(try await store.users() == before)
        #expect(try await store.health().problems.isEmpty)
    }
}

@Suite("Admin API record JSON")
struct AuthUserImportTests {
    private func decode(_ json: String) throws -> AuthUserImport {
        try JSONDecoder().decode(AuthUserImport.self, from: Data(json.utf8))
    }

    private let base = """
        {"id": 42, "username": "bruce_wayne", "active": true, "state": "Member",
         "groups": ["Fleet Commanders", "Corp_WYE"], "can_access_discord": true,
         "main_character": {"character_id": 95465499, "character_name": "Bruce Wayne",
           "corporation_id": 98000001, "corporation_name": "Wayne Enterprises", "corporation_ticker": "WYE",
           "alliance_id": 99000001, "alliance_name": "Justice League", "alliance_ticker": "JL"}
        """

    @Test("the SPEC 1.1 example decodes, with no link import when discord is absent or null")
    func withoutDiscord() throws {
        let absent = try decode(base + "}")
        #expect(absent.user == bruce)
        #expect(absent.discordUID == nil)
        #expect(try decode(base + #", "discord": null}"#).discordUID == nil)
    }

    @Test("discord.uid imports a link, as a string or a number")
    func withDiscord() throws {
        #expect(try decode(base + #", "discord": {"uid": "80351110224678912"}}"#).discordUID == 80_351_110_224_678_912)
        #expect(try decode(base + #", "discord": {"uid": 80351110224678912}}"#).discordUID == 80_351_110_224_678_912)
        #expect(throws: DecodingError.self) { try decode(base + #", "discord": {"uid": "x"}}"#) }
        #expect(throws: DecodingError.self) { try decode(base + #", "discord": {}}"#) }
    }

    @Test("a key the contract does not define is refused naming it, at the top and in nested objects")
    func unknownKeys() throws {
        func refusedKey(_ json: String) -> [String]? {
            do {
                _ = try decode(json)
                return nil
            } catch DecodingError.dataCorrupted(let context) where context.underlyingError is UnknownRecordKey {
                return context.codingPath.map(\.stringValue)
            } catch {
                return ["other: \(error)"]
            }
        }
        #expect(refusedKey(base + #", "Discord": {"uid": "80351110224678912"}}"#) == ["Discord"])
        #expect(refusedKey(base + #", "discord": {"uid": "1", "uid2": "2"}}"#) == ["discord", "uid2"])
        #expect(refusedKey(base.replacingOccurrences(of: #""alliance_ticker": "JL""#, with: #""alliance_ticker": "JL", "ticker": "JL""#) + "}")
                == ["main_character", "ticker"])
        #expect(refusedKey(base + #", "groupz": []}"#) == ["groupz"])
        #expect(refusedKey(base + "}") == nil)
        #expect(refusedKey(base + #", "discord": null}"#) == nil)
    }

    @Test("discord.uid must be a positive snowflake")
    func uidIsPositive() throws {
        for uid in ["0", #""0""#, "-1", #""-1""#, "18446744073709551616", #""18446744073709551616""#, "1.5", #""12a""#, #""""#] {
            #expect(throws: DecodingError.self, "\(uid)") { try decode(base + #", "discord": {"uid": \#(uid)}}"#) }
        }
        #expect(try decode(base + #", "discord": {"uid": "18446744073709551615"}}"#).discordUID == Snowflake(UInt64.max))
    }

    @Test("the store refuses a link import to Discord id 0 whatever decoded it")
    func storeRefusesUIDZero() async throws {
        let store = try AuthStore.inMemory()
        await #expect(throws: AuthStoreError.invalidRecord(userID: 42, field: "discord.uid", reason: "must be a positive Discord id")) {
            try await store.upsert(AuthUserImport(user: bruce, discordUID: 0))
        }
        #expect(try await store.users().isEmpty)
    }

    @Test("encoding and decoding round-trips")
    func roundTrip() throws {
        let record = AuthUserImport(user: bruce, discordUID: 1234)
        let data = try JSONEncoder().encode(record)
        #expect(try JSONDecoder().decode(AuthUserImport.self, from: data) == record)
    }
}
