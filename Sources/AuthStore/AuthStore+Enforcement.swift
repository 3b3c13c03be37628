import DiscordModels
import Foundation
import GRDB

// Each member's last enforcement outcome (SPEC 1.5, 1.8; `enforcement`, `skipped`, `observed` in the API).
extension AuthStore {
    /// Records a member's outcome, replacing the record(s) known by its user id or its uid.
    /// Pass both keys when both are known. `consecutiveFailures` is kept by the store: a `failed`
    /// outcome adds one to the previous count, `ok` resets it, other states keep it.
    /// - Throws: ``AuthStoreError/invalidRecord(userID:field:reason:)`` without any key,
    ///   ``AuthStoreError/unknownUser(_:)`` for a user id that is not stored.
    @discardableResult
    public func recordEnforcement(_ outcome: EnforcementOutcome) async throws -> EnforcementRecord {
        let at = stamp()
        return try await write { db, _ in try Self.record(outcome, at: at, in: db) }
    }

    /// Records many outcomes in one transaction (all or nothing), e.g. at the end of an audit.
    @discardableResult
    public func recordEnforcements(_ outcomes: [EnforcementOutcome]) async throws -> [EnforcementRecord] {
        let at = stamp()
        return try await write { db, _ in try outcomes.map { try Self.record($0, at: at, in: db) } }
    }

    /// The record of an Auth user, or nil.
    public func enforcement(userID: Int64) async throws -> EnforcementRecord? {
        try await read { db in try Self.fetchEnforcement(db, userID: userID, discordUID: nil) }
    }

    /// The record of a Discord member, or nil.
    public func enforcement(discordUID: Snowflake) async throws -> EnforcementRecord? {
        try await read { db in try Self.fetchEnforcement(db, userID: nil, discordUID: discordUID) }
    }

    /// Records in the given states (status lists `skipped`, `failed`, `observed`), oldest first.
    public func enforcementRecords(in states: Set<EnforcementRecord.State>) async throws -> [EnforcementRecord] {
        let names = states.map(\.rawValue)
        return try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(Self.enforcementColumns) FROM enforcement WHERE state IN (\(databaseQuestionMarks(count: names.count)))
                ORDER BY at, id
                """, arguments: StatementArguments(names)).compactMap(Self.enforcementRecord)
        }
    }

    /// Forgets the record(s) known by either key (a member left, or is no longer Warden's concern).
    /// Returns how many were removed.
    @discardableResult
    public func removeEnforcement(userID: Int64? = nil, discordUID: Snowflake? = nil) async throws -> Int {
        try await write { db, _ in
            try db.execute(sql: "DELETE FROM enforcement WHERE user_id = ? OR discord_uid = ?",
                           arguments: [userID, discordUID?.databaseValue])
            return db.changesCount
        }
    }

    // MARK: - Inside a transaction

    static func record(_ outcome: EnforcementOutcome, at: Date, in db: Database) throws -> EnforcementRecord {
        guard outcome.userID != nil || outcome.discordUID != nil else {
            throw AuthStoreError.invalidRecord(userID: nil, field: "enforcement", reason: "needs a user id or a Discord uid")
        }
        if let userID = outcome.userID,
           try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM auth_user WHERE id = ?)", arguments: [userID]) != true {
            throw AuthStoreError.unknownUser(userID)
        }
        let keys: StatementArguments = [outcome.userID, outcome.discordUID?.databaseValue]
        let previous = try Int.fetchOne(db, sql: """
            SELECT max(consecutive_failures) FROM enforcement WHERE user_id = ? OR discord_uid = ?
            """, arguments: keys) ?? 0
        let failures = switch outcome.state {
        case .failed: previous + 1
        case .ok: 0
        case .pending, .skipped, .observed: previous
        }
        try db.execute(sql: "DELETE FROM enforcement WHERE user_id = ? OR discord_uid = ?", arguments: keys)
        try db.execute(sql: """
            INSERT INTO enforcement (user_id, discord_uid, state, reason, at, consecutive_failures) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [outcome.userID, outcome.discordUID?.databaseValue, outcome.state.rawValue, outcome.reason,
                             at.storeMilliseconds, failures])
        return EnforcementRecord(userID: outcome.userID, discordUID: outcome.discordUID, state: outcome.state,
                                 reason: outcome.reason, at: at, consecutiveFailures: failures)
    }

    static let enforcementColumns = "user_id, discord_uid, state, reason, at, consecutive_failures"

    static func fetchEnforcement(_ db: Database, userID: Int64?, discordUID: Snowflake?) throws -> EnforcementRecord? {
        try Row.fetchOne(db, sql: """
            SELECT \(enforcementColumns) FROM enforcement WHERE user_id = ? OR discord_uid = ? ORDER BY at DESC LIMIT 1
            """, arguments: [userID, discordUID?.databaseValue]).flatMap(enforcementRecord)
    }

    static func enforcementRecord(_ row: Row) -> EnforcementRecord? {
        // The CHECK constraint admits only known states.
        guard let state = EnforcementRecord.State(rawValue: row[2]) else { return nil }
        let uid: Int64? = row[1]
        return EnforcementRecord(userID: row[0], discordUID: uid.map(Snowflake.init(databaseValue:)), state: state,
                                 reason: row[3], at: Date(storeMilliseconds: row[4]), consecutiveFailures: row[5])
    }
}
