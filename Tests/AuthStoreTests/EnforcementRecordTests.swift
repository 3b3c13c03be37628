@testable import AuthStore
import DiscordModels
import Testing

@Suite("Enforcement records")
struct EnforcementRecordTests {
    @Test("a record is kept per member and found by user id or uid", arguments: backends)
    func setAndGet(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        try await store.upsert(bruce)
        let record = try await store.recordEnforcement(EnforcementOutcome(userID: 42, discordUID: 1001, state: .skipped, reason: "member_above_bot"))
        #expect(record == EnforcementRecord(userID: 42, discordUID: 1001, state: .skipped, reason: "member_above_bot",
                                            at: clock.now.storePrecision, consecutiveFailures: 0))
        #expect(try await store.enforcement(userID: 42) == record)
        #expect(try await store.enforcement(discordUID: 1001) == record)

        // An unlinked member is known by its uid only.
        let stranger = try await store.recordEnforcement(EnforcementOutcome(discordUID: 5005, state: .observed, reason: "remove role Corp_WYE"))
        #expect(try await store.enforcement(discordUID: 5005) == stranger)

        // A new outcome replaces the old one.
        clock.advance(seconds: 10)
        try await store.recordEnforcement(EnforcementOutcome(userID: 42, discordUID: 1001, state: .ok))
        #expect(try await store.enforcement(userID: 42)?.state == .ok)
        #expect(try await store.enforcement(userID: 42)?.reason == nil)
        #expect(try await store.health().isHealthy)
    }

    @Test("consecutive failures count failures in a row and reset on success", arguments: backends)
    func consecutiveFailures(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        try await store.upsert(bruce)
        let member = { (state: EnforcementRecord.State) in EnforcementOutcome(userID: 42, discordUID: 1001, state: state, reason: "x") }
        #expect(try await store.recordEnforcement(member(.failed)).consecutiveFailures == 1)
        #expect(try await store.recordEnforcement(member(.pending)).consecutiveFailures == 1)
        #expect(try await store.recordEnforcement(member(.failed)).consecutiveFailures == 2)
        #expect(try await store.enforcement(discordUID: 1001)?.consecutiveFailures == 2)
        #expect(try await store.recordEnforcement(member(.ok)).consecutiveFailures == 0)
        #expect(try await store.recordEnforcement(member(.failed)).consecutiveFailures == 1)
    }

    @Test("records known first by uid, later by user id and uid, merge into one", arguments: backends)
    func merge(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        try await store.upsert(bruce)
        try await store.recordEnforcement(EnforcementOutcome(discordUID: 1001, state: .failed))
        try await store.recordEnforcement(EnforcementOutcome(userID: 42, discordUID: 1001, state: .failed))
        let all = try await store.enforcementRecords(in: Set(EnforcementRecord.State.allCases))
        #expect(all.count == 1)
        #expect(all.first?.userID == 42)
        #expect(all.first?.consecutiveFailures == 2)
    }

    @Test("status lists skipped, failed and observed records", arguments: backends)
    func listing(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        try await store.upsert(bruce)
        try await store.upsert(clark)
        try await store.recordEnforcements([
            EnforcementOutcome(userID: 42, discordUID: 1001, state: .skipped, reason: "owner"),
            EnforcementOutcome(userID: 7, discordUID: 2002, state: .ok),
            EnforcementOutcome(discordUID: 3003, state: .observed, reason: "add role Member"),
            EnforcementOutcome(discordUID: 4004, state: .failed, reason: "HTTP 503"),
        ])
        #expect(try await store.enforcementRecords(in: [.skipped]).map(\.reason) == ["owner"])
        let troubled = try await store.enforcementRecords(in: [.skipped, .failed, .observed])
        #expect(Set(troubled.compactMap(\.discordUID)) == [1001, 3003, 4004])
        #expect(try await store.enforcementRecords(in: []).isEmpty)
    }

    @Test("a batch with a bad outcome records nothing", arguments: backends)
    func batchRollback(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        try await store.upsert(bruce)
        await #expect(throws: AuthStoreError.unknownUser(5)) {
            try await store.recordEnforcements([
                EnforcementOutcome(userID: 42, state: .ok),
                EnforcementOutcome(userID: 5, state: .ok),
            ])
        }
        #expect(try await store.enforcement(userID: 42) == nil)
        await #expect(throws: AuthStoreError.self) { try await store.recordEnforcement(EnforcementOutcome(state: .ok)) }
    }

    @Test("a record can be removed by either key", arguments: backends)
    func removal(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        try await store.recordEnforcement(EnforcementOutcome(discordUID: 3003, state: .observed))
        #expect(try await store.removeEnforcement(discordUID: 3003) == 1)
        #expect(try await store.enforcement(discordUID: 3003) == nil)
        #expect(try await store.removeEnforcement(discordUID: 3003) == 0)
    }
}
