import AuthModels
@testable import AuthStore
import DiscordModels
import Foundation
import PostgresTesting
import Testing

/// What leadership needs from the store (SPEC 7): the lease row with its epoch, fenced writes of
/// enforcement state, and the roles Warden created.
@Suite("The leader lease and fencing")
struct LeaseTests {
    @Test("the lease is taken when free, held against others, renewed by its holder, and taken over once expired", arguments: backends)
    func acquireRenewTakeOver(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        defer { try? store.close() }
        #expect(try await store.currentLease().lease == Lease(holder: nil, epoch: 0, expiresAt: Date(storeMilliseconds: 0)))
        guard case .acquired(let first) = try await store.acquireLease(instance: "alpha", ttl: .seconds(10)) else {
            Issue.record("a free lease was not taken")
            return
        }
        #expect(first.holder == "alpha" && first.epoch == 1)
        #expect(try await store.currentLease().isHeld)
        // Held: neither another instance nor the holder itself acquires it again.
        #expect(try await store.acquireLease(instance: "beta", ttl: .seconds(10)) == .held(first))
        #expect(try await store.acquireLease(instance: "alpha", ttl: .seconds(10)) == .held(first))
        let renewed = try #require(try await store.renewLease(instance: "alpha", epoch: 1, ttl: .seconds(10)))
        #expect(renewed.epoch == 1 && renewed.expiresAt >= first.expiresAt)
        #expect(try await store.renewLease(instance: "beta", epoch: 1, ttl: .seconds(10)) == nil, "not the holder")
        #expect(try await store.renewLease(instance: "alpha", epoch: 0, ttl: .seconds(10)) == nil, "not the current epoch")

        // A lease that expires (a very short one here) is taken over with the next epoch.
        _ = try await store.renewLease(instance: "alpha", epoch: 1, ttl: .milliseconds(1))
        try await waitUntilExpired(store)
        guard case .acquired(let second) = try await store.acquireLease(instance: "beta", ttl: .seconds(10)) else {
            Issue.record("an expired lease was not taken over")
            return
        }
        #expect(second.holder == "beta" && second.epoch == 2)
        #expect(try await store.renewLease(instance: "alpha", epoch: 1, ttl: .seconds(10)) == nil, "the deposed holder cannot renew")
    }

    @Test("a holder re-taking its own expired lease bumps the epoch too; a released lease is free at once", arguments: backends)
    func retakeAndRelease(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        defer { try? store.close() }
        _ = try await store.acquireLease(instance: "alpha", ttl: .milliseconds(1))
        try await waitUntilExpired(store)
        guard case .acquired(let again) = try await store.acquireLease(instance: "alpha", ttl: .seconds(10)) else {
            Issue.record("the expired lease was not re-taken")
            return
        }
        #expect(again.epoch == 2)
        #expect(try await !store.releaseLease(instance: "beta", epoch: 2))
        #expect(try await store.releaseLease(instance: "alpha", epoch: 2))
        guard case .acquired(let next) = try await store.acquireLease(instance: "beta", ttl: .seconds(10)) else {
            Issue.record("a released lease was not free")
            return
        }
        #expect(next.epoch == 3)
    }

    @Test("writes of enforcement state under a stale epoch are refused and change nothing", arguments: backends)
    func fencedWrites(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        defer { try? store.close() }
        try await store.upsert(bruce)
        guard case .acquired(let lease) = try await store.acquireLease(instance: "alpha", ttl: .milliseconds(1)) else { return }
        let run = try await store.createTaskRun(name: "discord.update_all", total: 2, epoch: lease.epoch)
        try await store.recordEnforcement(EnforcementOutcome(userID: 42, state: .pending), epoch: lease.epoch)
        try await store.recordCreatedRole(guildID: 9, name: "Fleet Commanders", roleID: 500, epoch: lease.epoch)
        try await waitUntilExpired(store)
        guard case .acquired(let newer) = try await store.acquireLease(instance: "beta", ttl: .seconds(10)) else { return }

        let stale = AuthStoreError.staleEpoch(epoch: lease.epoch, current: newer.epoch)
        await #expect(throws: stale) { try await store.recordEnforcement(EnforcementOutcome(userID: 42, state: .ok), epoch: lease.epoch) }
        await #expect(throws: stale) { try await store.recordEnforcements([EnforcementOutcome(userID: 42, state: .ok)], epoch: lease.epoch) }
        await #expect(throws: stale) { try await store.removeEnforcement(userID: 42, epoch: lease.epoch) }
        var progressed = run
        progressed.progress.done = 2
        await #expect(throws: stale) { try await store.updateTaskRun(progressed, epoch: lease.epoch) }
        await #expect(throws: stale) { try await store.createTaskRun(name: "discord.update_all", epoch: lease.epoch) }
        await #expect(throws: stale) { try await store.failUnfinishedTaskRuns(error: "restart", epoch: lease.epoch) }
        await #expect(throws: stale) { try await store.pruneTaskRuns(finishedBefore: .distantFuture, epoch: lease.epoch) }
        await #expect(throws: stale) { try await store.recordCreatedRole(guildID: 9, name: "Corp_WYE", roleID: 501, epoch: lease.epoch) }
        await #expect(throws: stale) { try await store.forgetCreatedRole(roleID: 500, epoch: lease.epoch) }

        #expect(try await store.enforcement(userID: 42)?.state == .pending)
        #expect(try await store.taskRun(id: run.id) == run)
        #expect(try await store.taskRuns().count == 1)
        #expect(try await store.createdRoles(guildID: 9).map(\.roleID) == [500])
        // The current leader's writes land.
        try await store.recordEnforcement(EnforcementOutcome(userID: 42, state: .ok), epoch: newer.epoch)
        #expect(try await store.enforcement(userID: 42)?.state == .ok)
        // Without a lease (one instance): not checked.
        try await store.recordEnforcement(EnforcementOutcome(userID: 42, state: .skipped, reason: "owner"))
        #expect(try await store.enforcement(userID: 42)?.state == .skipped)
    }

    @Test("created roles are recorded per guild and name with their epoch; a role created again replaces the record", arguments: backends)
    func createdRoles(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        defer { try? store.close() }
        try await store.recordCreatedRole(guildID: 9, name: "Fleet Commanders", roleID: 500, epoch: nil)
        try await store.recordCreatedRole(guildID: 9, name: "Corp_WYE", roleID: 501, epoch: nil)
        try await store.recordCreatedRole(guildID: 10, name: "Fleet Commanders", roleID: 600, epoch: nil)
        #expect(try await store.createdRoles(guildID: 9).map(\.name) == ["Corp_WYE", "Fleet Commanders"])
        // Deleted on Discord and created again: the record follows the new role.
        try await store.recordCreatedRole(guildID: 9, name: "Fleet Commanders", roleID: 502, epoch: nil)
        #expect(try await store.createdRoles(guildID: 9).map(\.roleID) == [501, 502])
        #expect(try await store.forgetCreatedRole(roleID: 501, epoch: nil))
        #expect(try await !store.forgetCreatedRole(roleID: 501, epoch: nil))
        #expect(try await store.createdRoles(guildID: 9) == [
            CreatedRole(guildID: 9, name: "Fleet Commanders", roleID: 502, epoch: 0, createdAt: clock.now.storePrecision)])
        #expect(try await store.createdRoles(guildID: 10).map(\.roleID) == [600])
    }

    @Test("two instances racing for a free lease: exactly one gets it", .enabled(if: PostgresTestServer.availability))
    func raceForTheLease() async throws {
        let database = try await PostgresTestServer.makeDatabase()
        let instances = [try await AuthStore.connect(database), try await AuthStore.connect(database), try await AuthStore.connect(database)]
        defer { for store in instances { try? store.close() } }
        let outcomes = try await withThrowingTaskGroup(of: LeaseAcquisition.self) { group in
            for (index, store) in instances.enumerated() {
                group.addTask { try await store.acquireLease(instance: "instance-\(index)", ttl: .seconds(10)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let winners = outcomes.filter { if case .acquired = $0 { true } else { false } }
        #expect(winners.count == 1)
        #expect(try await instances[0].currentLease().lease.epoch == 1)
    }

    @Test("a takeover waits for a fenced write in flight: the deposed leader's write lands before it, or is refused",
          .enabled(if: PostgresTestServer.availability))
    func fencedWriteAndTakeoverDoNotInterleave() async throws {
        let database = try await PostgresTestServer.makeDatabase()
        let old = try await AuthStore.connect(database)
        let new = try await AuthStore.connect(database)
        defer { try? old.close(); try? new.close() }
        try await old.upsert(bruce)
        guard case .acquired(let lease) = try await old.acquireLease(instance: "old", ttl: .milliseconds(200)) else { return }
        try await waitUntilExpired(old)
        // Both at once, many times: after the takeover commits, no write under the old epoch lands.
        for round in 0..<10 {
            let epochBefore = try await new.currentLease().lease.epoch
            async let write: Void = { _ = try? await old.recordEnforcement(EnforcementOutcome(userID: 42, state: .pending, reason: "r\(round)"), epoch: lease.epoch) }()
            async let take = new.acquireLease(instance: "new-\(round)", ttl: .milliseconds(1))
            _ = await write
            _ = try await take
            let after = try await new.currentLease().lease.epoch
            if after > epochBefore {
                await #expect(throws: AuthStoreError.self) {
                    try await old.recordEnforcement(EnforcementOutcome(userID: 42, state: .failed), epoch: lease.epoch)
                }
            }
            try await waitUntilExpired(new)
        }
    }

    /// Waits (at most 10 s) for the lease to expire by the database's clock.
    func waitUntilExpired(_ store: AuthStore) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while try await store.currentLease().isHeld {
            guard ContinuousClock.now < deadline else {
                Issue.record("the lease did not expire")
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
