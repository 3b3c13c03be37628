import DiscordModels
import Foundation

// Each member's last enforcement outcome (SPEC 1.5, 1.8; `enforcement`, `skipped`, `observed` in the API).
//
// Enforcement state is the leader's to write (SPEC 7): every write here takes the writer's `epoch` and
// is refused with ``AuthStoreError/staleEpoch(epoch:current:)`` when the lease has moved on, checked in
// the same transaction. `epoch: nil` is a single instance without a lease (not checked).
extension AuthStore {
    /// Records a member's outcome, replacing the record(s) known by its user id or its uid.
    /// Pass both keys when both are known. `consecutiveFailures` is kept by the store: a `failed`
    /// outcome adds one to the previous count, `ok` resets it, other states keep it.
    /// - Throws: ``AuthStoreError/invalidRecord(userID:field:reason:)`` without any key,
    ///   ``AuthStoreError/unknownUser(_:)`` for a user id that is not stored,
    ///   ``AuthStoreError/staleEpoch(epoch:current:)``.
    @discardableResult
    public func recordEnforcement(_ outcome: EnforcementOutcome, epoch: Int64? = nil) async throws -> EnforcementRecord {
        let at = stamp()
        return try await write { tx, _ in
            try Self.checkEpoch(epoch, in: tx)
            return try Self.record(outcome, at: at, in: tx)
        }
    }

    /// Records many outcomes in one transaction (all or nothing), e.g. at the end of an audit.
    @discardableResult
    public func recordEnforcements(_ outcomes: [EnforcementOutcome], epoch: Int64? = nil) async throws -> [EnforcementRecord] {
        let at = stamp()
        return try await write { tx, _ in
            try Self.checkEpoch(epoch, in: tx)
            return try outcomes.map { try Self.record($0, at: at, in: tx) }
        }
    }

    /// The record of an Auth user, or nil.
    public func enforcement(userID: Int64) async throws -> EnforcementRecord? {
        try await read { tx in try Self.fetchEnforcement(tx, userID: userID, discordUID: nil) }
    }

    /// The record of a Discord member, or nil.
    public func enforcement(discordUID: Snowflake) async throws -> EnforcementRecord? {
        try await read { tx in try Self.fetchEnforcement(tx, userID: nil, discordUID: discordUID) }
    }

    /// Records in the given states (status lists `skipped`, `failed`, `observed`), oldest first.
    public func enforcementRecords(in states: Set<EnforcementRecord.State>) async throws -> [EnforcementRecord] {
        let names = states.map { StoreValue.text($0.rawValue) }
        guard !names.isEmpty else { return [] }
        return try await read { tx in
            try tx.rows("""
                SELECT \(Self.enforcementColumns) FROM enforcement WHERE state IN (\(placeholders(count: names.count)))
                ORDER BY at, id
                """, arguments: names, Self.enforcementRecord).compactMap { $0 }
        }
    }

    /// Forgets the record(s) known by either key (a member left, or is no longer Warden's concern).
    /// Returns how many were removed.
    @discardableResult
    public func removeEnforcement(userID: Int64? = nil, discordUID: Snowflake? = nil, epoch: Int64? = nil) async throws -> Int {
        try await write { tx, _ in
            try Self.checkEpoch(epoch, in: tx)
            return try tx.execute("DELETE FROM enforcement WHERE user_id = ? OR discord_uid = ?", userID, discordUID)
        }
    }

    // MARK: - Inside a transaction

    /// Refuses the transaction unless `epoch` is the lease's current one (nil: not checked). On
    /// PostgreSQL the lease row stays share-locked until the transaction ends, so a takeover waits for
    /// this write instead of slipping in between the check and the commit.
    static func checkEpoch(_ epoch: Int64?, in tx: any StoreTransaction) throws {
        guard let epoch else { return }
        let current = try tx.integer("SELECT epoch FROM leader_lease WHERE id = 1" + tx.dialect.forShare) ?? 0
        guard current == epoch else { throw AuthStoreError.staleEpoch(epoch: epoch, current: current) }
    }

    static func record(_ outcome: EnforcementOutcome, at: Date, in tx: any StoreTransaction) throws -> EnforcementRecord {
        guard outcome.userID != nil || outcome.discordUID != nil else {
            throw AuthStoreError.invalidRecord(userID: nil, field: "enforcement", reason: "needs a user id or a Discord uid")
        }
        if let userID = outcome.userID, try !userExists(tx, userID) {
            throw AuthStoreError.unknownUser(userID)
        }
        let previous = try tx.integer("SELECT max(consecutive_failures) FROM enforcement WHERE user_id = ? OR discord_uid = ?",
                                      outcome.userID, outcome.discordUID) ?? 0
        let failures = switch outcome.state {
        case .failed: Int(previous) + 1
        case .ok: 0
        case .pending, .skipped, .observed: Int(previous)
        }
        try tx.execute("DELETE FROM enforcement WHERE user_id = ? OR discord_uid = ?", outcome.userID, outcome.discordUID)
        try tx.execute("""
            INSERT INTO enforcement (user_id, discord_uid, state, reason, at, consecutive_failures) VALUES (?, ?, ?, ?, ?, ?)
            """, outcome.userID, outcome.discordUID, outcome.state.rawValue, outcome.reason, at.storeMilliseconds, failures)
        return EnforcementRecord(userID: outcome.userID, discordUID: outcome.discordUID, state: outcome.state,
                                 reason: outcome.reason, at: at, consecutiveFailures: failures)
    }

    static let enforcementColumns = "user_id, discord_uid, state, reason, at, consecutive_failures"

    static func fetchEnforcement(_ tx: any StoreTransaction, userID: Int64?, discordUID: Snowflake?) throws -> EnforcementRecord? {
        try tx.firstRow("""
            SELECT \(enforcementColumns) FROM enforcement WHERE user_id = ? OR discord_uid = ? ORDER BY at DESC LIMIT 1
            """, userID, discordUID, transform: enforcementRecord) ?? nil
    }

    static func enforcementRecord(_ row: any StoreRow) throws -> EnforcementRecord? {
        // The CHECK constraint admits only known states.
        guard let state = EnforcementRecord.State(rawValue: try row.string(2)) else { return nil }
        return EnforcementRecord(userID: try row.int64OrNil(0), discordUID: try row.snowflakeOrNil(1), state: state,
                                 reason: try row.stringOrNil(3), at: try row.date(4), consecutiveFailures: try row.int(5))
    }
}
