import AuthModels
@testable import AuthStore
import DiscordModels
import Foundation
import GRDB
import PostgresTesting
import Testing

/// Schema versions and upgrades one instance at a time (SPEC 7): additive steps, a newer schema refused
/// naming both versions.
@Suite("Schema versions and rolling upgrades")
struct SchemaUpgradeTests {
    @Test("schema steps are numbered 1, 2, 3… and keep the released GRDB identifiers")
    func versions() {
        #expect(Schema.migrations.map(\.version) == Array(1...Schema.latestVersion))
        #expect(Schema.migrations.prefix(2).map(\.identifier) == [
            "v1: auth users, links, reserved names, notifications, tasks, enforcement, oauth states",
            "v2: link reservations and link generations",
        ])
        #expect(Schema.migrations.allSatisfy { $0.compatibleFrom <= $0.version })
    }

    @Test("SQLite: a store at the previous version is migrated with its data; an older Warden then refuses it, naming both versions")
    func sqliteUpgrade() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("warden.sqlite3")
        let previous = Schema.latestVersion - 1
        let older = try AuthStore(path: path, schemaVersion: previous)
        try await older.upsert(AuthUserImport(user: bruce, discordUID: 1001))
        try older.close()

        let newer = try AuthStore(path: path)
        #expect(try await newer.user(id: 42)?.user == bruce)
        #expect(try await newer.discordLink(uid: 1001)?.userID == 42)
        #expect(try await newer.health().migrations == Schema.migrations.map(\.identifier))
        _ = try await newer.acquireLease(instance: "alpha", ttl: .seconds(10))
        try newer.close()

        #expect(throws: AuthStoreError.schemaTooNew(found: Schema.latestVersion, supported: previous)) {
            _ = try AuthStore(path: path, schemaVersion: previous)
        }
        let message = AuthStoreError.schemaTooNew(found: Schema.latestVersion, supported: previous).description
        #expect(message.contains("version \(Schema.latestVersion)") && message.contains("up to \(previous)"))
    }

    @Test("PostgreSQL rolling upgrade: the newer instance migrates a store at the previous version; the older keeps working on it",
          .enabled(if: PostgresTestServer.availability))
    func postgresRollingUpgrade() async throws {
        let database = try await PostgresTestServer.makeDatabase()
        let previous = Schema.latestVersion - 1
        // The older Warden: the previous schema and its code's operations (no change log, no lease).
        let older = try await AuthStore.connect(database, schemaVersion: previous)
        defer { try? older.close() }
        try await older.upsert(AuthUserImport(user: bruce, discordUID: 1001))
        #expect(try await older.health().migrations == Schema.migrations.prefix(previous).map(\.identifier))

        // One instance upgraded: it migrates the shared store.
        let newer = try await AuthStore.connect(database)
        defer { try? newer.close() }
        #expect(try await newer.health().migrations == Schema.migrations.map(\.identifier))
        #expect(try await newer.user(id: 42)?.user == bruce)
        guard case .acquired = try await newer.acquireLease(instance: "newer", ttl: .seconds(10)) else {
            Issue.record("the newer instance cannot use the new tables")
            return
        }

        // The older instance goes on working on the migrated store, and the newer one sees its writes.
        try await older.upsert(clark)
        try await older.link(userID: 7, to: discordUser(2002, "clark"))
        let expiry = Date().addingTimeInterval(900)
        #expect(try await older.reserveLink(userID: 42, uid: 1001, generation: 0, expiresAt: expiry) != .unknownUser)
        try await older.recordEnforcement(EnforcementOutcome(userID: 7, state: .ok))
        #expect(try await newer.discordLink(uid: 2002)?.userID == 7)
        #expect(try await newer.enforcement(userID: 7)?.state == .ok)
        // And a restarted older instance opens the migrated store (the new step is additive).
        let restarted = try await AuthStore.connect(database, schemaVersion: previous)
        #expect(try await restarted.users().map(\.user.id) == [7, 42])
        try restarted.close()
    }

    @Test("PostgreSQL: a newer step that is not additive for this Warden is refused, naming both versions; an additive one is not",
          .enabled(if: PostgresTestServer.availability))
    func postgresNewerSchema() async throws {
        let database = try await PostgresTestServer.makeDatabase()
        let store = try await AuthStore.connect(database)
        let future = Schema.latestVersion + 1
        try await store.execute(raw: "INSERT INTO warden_schema (version, name, compatible_from, applied_at) VALUES (\(future), 'additive', 1, 0)")
        try store.close()
        // Additive: this Warden keeps working on it.
        let tolerant = try await AuthStore.connect(database)
        try await tolerant.upsert(bruce)
        try await tolerant.execute(raw: "INSERT INTO warden_schema (version, name, compatible_from, applied_at) VALUES (\(future + 1), 'breaking', \(future + 1), 0)")
        try tolerant.close()
        await #expect(throws: AuthStoreError.schemaTooNew(found: future + 1, supported: Schema.latestVersion)) {
            _ = try await AuthStore.connect(database)
        }
    }

    @Test("PostgreSQL: instances starting together migrate the store once",
          .enabled(if: PostgresTestServer.availability))
    func concurrentMigration() async throws {
        let database = try await PostgresTestServer.makeDatabase()
        let stores = try await withThrowingTaskGroup(of: AuthStore.self) { group in
            for _ in 0..<3 { group.addTask { try await AuthStore.connect(database) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for store in stores {
            #expect(try await store.health().migrations == Schema.migrations.map(\.identifier))
            try store.close()
        }
    }
}
