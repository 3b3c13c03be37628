import AuthModels
@testable import AuthStore
import DiscordModels
import Foundation
import GRDB
import Testing

@Suite("Crash safety and persistence")
struct PersistenceTests {
    @Test("a file store is in WAL mode with foreign keys on and passes integrity checks")
    func walAndIntegrity() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try AuthStore(path: directory.path("warden.sqlite3"))
        try await store.upsert([AuthUserImport(user: bruce, discordUID: 1001), AuthUserImport(user: clark)])
        try await store.deleteUser(id: 42)
        try await store.replaceReservedGroupNames(["Alpha"])
        let health = try await store.health()
        #expect(health.journalMode == "wal")
        #expect(health.foreignKeys)
        #expect(health.problems.isEmpty)
        #expect(health.isHealthy)
        #expect(health.migrations == Schema.migrator.migrations)
        let synchronous = try await store.sqlite!.writer.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(synchronous == 2, "FULL: every commit syncs the WAL")
        #expect(FileManager.default.fileExists(atPath: directory.path("warden.sqlite3-wal")))
        try store.close()
    }

    @Test("everything written is there after closing and reopening the file")
    func reopen() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("warden.sqlite3")
        let clock = TestWallClock()
        let expiry = clock.now.addingTimeInterval(600)

        let first = try AuthStore(path: path, now: { clock.now })
        try await first.upsert([AuthUserImport(user: bruce, discordUID: 1001), AuthUserImport(user: clark), AuthUserImport(user: diana)])
        try await first.updateDiscordProfile(discordUser(1001, "batman", globalName: "Bruce"))
        try await first.replaceReservedGroupNames(["Alpha", "Beta"])
        try await first.addNotification(userID: 7, kind: .linkRefused, message: "refused")
        var run = try await first.createTaskRun(name: "discord.update_all", total: 3)
        run.state = .done
        run.progress = TaskProgress(done: 3, total: 3, written: 1, skipped: 1, failed: 0)
        run = try await first.updateTaskRun(run)
        let enforcement = try await first.recordEnforcement(EnforcementOutcome(userID: 42, discordUID: 1001, state: .skipped, reason: "owner"))
        #expect(try await first.consumeOAuthState("nonce", expiresAt: expiry))
        let users = try await first.users()
        let links = try await first.discordLinks()
        let revision = try await first.currentRevision()
        try first.close()

        let second = try AuthStore(path: path, now: { clock.now })
        #expect(try await second.users() == users)
        #expect(try await second.discordLinks() == links)
        #expect(try await second.discordLink(uid: 1001)?.display == "@batman")
        #expect(try await second.reservedGroupNames() == ["Alpha", "Beta"])
        #expect(try await second.notifications(userID: 7).map(\.message) == ["refused"])
        #expect(try await second.taskRun(id: run.id) == run)
        #expect(try await second.enforcement(userID: 42) == enforcement)
        #expect(try await !second.consumeOAuthState("nonce", expiresAt: expiry), "a used state stays used across a restart")
        #expect(try await second.currentRevision() == revision)
        var moved = diana
        moved.state = "Guest"
        #expect(try await second.upsert(moved).stored.revision > revision, "revisions keep growing after a restart")
        #expect(try await second.createTaskRun(name: "discord.update_all").id > run.id)
        #expect(try await second.health().isHealthy)
        try second.close()
    }

    @Test("a failed batch on a file store leaves the file as it was, also after reopening")
    func failedBatchOnDisk() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("warden.sqlite3")
        let store = try AuthStore(path: path)
        try await store.upsert(AuthUserImport(user: diana, discordUID: 3003))
        let before = try await store.users()
        await #expect(throws: AuthStoreError.self) {
            try await store.upsert([AuthUserImport(user: bruce), AuthUserImport(user: clark, discordUID: 3003)])
        }
        try store.close()
        let reopened = try AuthStore(path: path)
        #expect(try await reopened.users() == before)
        #expect(try await reopened.health().isHealthy)
        try reopened.close()
    }

    @Test("migrations run once: opening an existing database applies nothing again and keeps the data")
    func idempotentMigrations() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("warden.sqlite3")
        let store = try AuthStore(path: path)
        try await store.upsert(bruce)
        try store.close()
        for _ in 0..<2 {
            let again = try AuthStore(path: path)
            #expect(try await again.user(id: 42)?.user == bruce)
            let applied = try await again.sqlite!.writer.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
            #expect(applied == Schema.migrator.migrations)
            try again.close()
        }
    }

    @Test("a database migrated by a newer Warden is refused, untouched")
    func newerDatabaseRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("warden.sqlite3")
        let store = try AuthStore(path: path)
        try await store.sqlite!.writer.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future')")
        }
        try store.close()
        #expect(throws: AuthStoreError.schemaTooNew(found: 99, supported: Schema.latestVersion)) {
            _ = try AuthStore(path: path)
        }
    }

    @Test("an online backup is a complete database the store opens")
    func backup() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try AuthStore(path: directory.path("warden.sqlite3"))
        try await store.upsert(AuthUserImport(user: bruce, discordUID: 1001))
        try await store.backup(to: directory.path("copy.sqlite3"))
        try store.close()
        let copy = try AuthStore(path: directory.path("copy.sqlite3"))
        #expect(try await copy.user(id: 42)?.user == bruce)
        #expect(try await copy.discordLink(uid: 1001)?.userID == 42)
        try copy.close()
    }

    @Test("concurrent writers from many tasks all land, each in its own transaction")
    func concurrentWriters() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try AuthStore(path: directory.path("warden.sqlite3"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in Int64(1)...50 {
                group.addTask {
                    try await store.upsert(AuthUser(id: id, username: "u\(id)", state: "Member", groups: ["G\(id % 5)"]))
                    try await store.addNotification(userID: id, kind: .leftGuild, message: "n\(id)")
                }
            }
            try await group.waitForAll()
        }
        let users = try await store.users()
        #expect(users.count == 50)
        #expect(Set(users.map(\.revision)).count == 50, "every change got its own revision")
        #expect(try await store.notifications().count == 50)
        #expect(try await store.groupAndStateNames().count == 6)
        try store.close()
    }
}
