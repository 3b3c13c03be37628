import AuthModels
@testable import AuthStore
import DiscordModels
import Foundation
import PostgresTesting
import Testing

/// What differs with PostgreSQL: several store instances on one database (SPEC 7), its schema versions,
/// its connection failures.
@Suite("Several instances on one PostgreSQL store", .enabled(if: PostgresTestServer.availability))
struct SeveralInstancesTests {
    @Test("a write on one instance reaches the other's change stream (LISTEN/NOTIFY), in commit order")
    func changeFeedAcrossInstances() async throws {
        let database = try await PostgresTestServer.makeDatabase()
        let writer = try await AuthStore.connect(database)
        let leader = try await AuthStore.connect(database)
        defer { try? writer.close(); try? leader.close() }
        try await waitUntilListening(leader)
        var received = leader.changes().makeAsyncIterator()
        let start = ContinuousClock.now
        try await writer.upsert(bruce)
        let first = await received.next()
        let delay = ContinuousClock.now - start
        print("change feed across instances: the other instance saw the upsert \(delay) after it was sent")
        guard case .userChanged(id: 42, _)? = first else {
            Issue.record("expected bruce's change, got \(String(describing: first))")
            return
        }
        try await writer.link(userID: 42, to: discordUser(1001, "batman"))
        try await writer.unlink(.uid(1001))
        try await writer.replaceReservedGroupNames(["Alpha"])
        try await writer.deleteUser(id: 42)
        var rest: [AuthStoreChange] = []
        for _ in 0..<4 { if let change = await received.next() { rest.append(change) } }
        #expect(rest == [.linked(userID: 42, uid: 1001), .unlinked(userID: 42, uid: 1001), .reservedGroupNamesChanged,
                         .userDeleted(id: 42, uid: nil)])
    }

    @Test("with the listening connection cut, changes still arrive by polling, and listening resumes")
    func pollingFallback() async throws {
        let database = try await PostgresTestServer.makeDatabase()
        let writer = try await AuthStore.connect(database)
        let leader = try await AuthStore.connect(database)
        defer { try? writer.close(); try? leader.close() }
        try await waitUntilListening(leader)
        // Cut every LISTEN session of the database off, as a network failure would.
        try await PostgresTestServer.shared().execute("""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = '\(database.database)' AND query ILIKE 'LISTEN%'
            """)
        var received = leader.changes().makeAsyncIterator()
        try await writer.upsert(bruce)
        guard case .userChanged(id: 42, _)? = await received.next() else {
            Issue.record("the change did not arrive while the listener was down")
            return
        }
        try await waitUntilListening(leader)
        try await writer.upsert(clark)
        guard case .userChanged(id: 7, _)? = await received.next() else {
            Issue.record("the change did not arrive after listening resumed")
            return
        }
    }

    @Test("two instances racing to reserve one account for two users: one gets it, the other the same refusal as on SQLite")
    func concurrentReservations() async throws {
        let database = try await PostgresTestServer.makeDatabase()
        let one = try await AuthStore.connect(database)
        let two = try await AuthStore.connect(database)
        defer { try? one.close(); try? two.close() }
        try await one.upsert([AuthUserImport(user: bruce), AuthUserImport(user: clark)])
        let expiry = Date().addingTimeInterval(900)
        for round in 0..<20 {
            let uid = Snowflake(rawValue: UInt64(5000 + round))
            async let first = one.reserveLink(userID: 42, uid: uid, generation: 0, expiresAt: expiry)
            async let second = two.reserveLink(userID: 7, uid: uid, generation: 0, expiresAt: expiry)
            let outcomes = try await [first, second]
            let reserved = outcomes.compactMap { outcome -> LinkReservation? in
                if case .reserved(let reservation) = outcome { return reservation } else { return nil }
            }
            #expect(reserved.count == 1, "round \(round): \(outcomes)")
            #expect(outcomes.contains { if case .accountTaken = $0 { true } else { false } }, "round \(round): \(outcomes)")
            for reservation in reserved { try await one.releaseLinkReservation(reservation) }
        }
    }

    @Test("concurrent upserts from two instances get distinct, growing revisions")
    func concurrentRevisions() async throws {
        let database = try await PostgresTestServer.makeDatabase()
        let one = try await AuthStore.connect(database)
        let two = try await AuthStore.connect(database)
        defer { try? one.close(); try? two.close() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in Int64(1)...40 {
                let store = id % 2 == 0 ? one : two
                group.addTask { try await store.upsert(AuthUser(id: id, username: "u\(id)", state: "Member")) }
            }
            try await group.waitForAll()
        }
        let users = try await one.users()
        #expect(users.count == 40)
        #expect(Set(users.map(\.revision)).count == 40)
        #expect(try await two.currentRevision() == 40)
    }

    @Test("everything written is there for a new instance (the store outlives its instances)")
    func reopen() async throws {
        let database = try await PostgresTestServer.makeDatabase()
        let first = try await AuthStore.connect(database)
        try await first.upsert([AuthUserImport(user: bruce, discordUID: 1001), AuthUserImport(user: clark)])
        try await first.replaceReservedGroupNames(["Alpha"])
        let run = try await first.createTaskRun(name: "discord.update_all", total: 3)
        let users = try await first.users()
        try first.close()
        let second = try await AuthStore.connect(database)
        defer { try? second.close() }
        #expect(try await second.users() == users)
        #expect(try await second.reservedGroupNames() == ["Alpha"])
        #expect(try await second.taskRun(id: run.id) == run)
        #expect(try await second.createTaskRun(name: "discord.update_all").id > run.id)
        #expect(try await second.health().migrations == Schema.migrations.map(\.identifier))
    }

    @Test("a store that cannot be reached fails after its retries, naming the server and never the password")
    func unreachable() async throws {
        var configuration = try PostgresTestServer.shared().configuration(database: "postgres")
        configuration.port = try PostgresTestServer.freePort()
        configuration.connectAttempts = 2
        configuration.firstRetryDelay = .milliseconds(50)
        do {
            _ = try await AuthStore.connect(configuration)
            Issue.record("connected to a port nobody listens on")
        } catch let error as AuthStoreError {
            guard case .unreachable(let reason) = error else { Issue.record("\(error)"); return }
            #expect(reason.contains("127.0.0.1:\(configuration.port)"))
            #expect(reason.contains("after 2 attempts"))
            #expect(!error.description.contains(PostgresTestServer.password))
        }
    }

    @Test("a wrong password is refused with the server's reason, without the password")
    func wrongPassword() async throws {
        var configuration = try PostgresTestServer.shared().configuration(database: "postgres")
        configuration.password = Secret("not-the-password-\(UUID().uuidString)")
        configuration.connectAttempts = 1
        do {
            _ = try await AuthStore.connect(configuration)
            Issue.record("logged in with a wrong password")
        } catch {
            #expect("\(error)".contains("password authentication failed"), "\(error)")
            #expect(!"\(error)".contains(configuration.password!.revealed))
            #expect(!"\(error)".contains(PostgresTestServer.password))
        }
    }

    /// Waits (at most 10 s) until the store's LISTEN connection is up.
    func waitUntilListening(_ store: AuthStore) async throws {
        let follower = try #require((store.backend as? PostgresBackend)?.follower)
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while !follower.isListening.withLock({ $0 }) {
            guard ContinuousClock.now < deadline else {
                Issue.record("the store did not start listening")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
