import DiscordModels
import Foundation

// Roles Warden created (SPEC 1.2, 7): recorded with the epoch of the leader that created them, so a new
// leader knows a role is on its way (its GUILD_ROLE_CREATE may not have reached its own cache yet) and
// never creates a twin. One record per guild and name: a role created again (the first was deleted on
// Discord) replaces the record.
extension AuthStore {
    /// Records that the leader at `epoch` created role `roleID` named `name` in `guildID`.
    /// - Throws: ``AuthStoreError/staleEpoch(epoch:current:)`` when `epoch` is not the lease's current one.
    @discardableResult
    public func recordCreatedRole(guildID: Snowflake, name: String, roleID: Snowflake, epoch: Int64?) async throws -> CreatedRole {
        let at = stamp()
        return try await write { tx, _ in
            try Self.checkEpoch(epoch, in: tx)
            try tx.execute("DELETE FROM created_role WHERE role_id = ?", roleID)
            try tx.execute("""
                INSERT INTO created_role (guild_id, name, role_id, epoch, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (guild_id, name) DO UPDATE SET
                    role_id = excluded.role_id, epoch = excluded.epoch, created_at = excluded.created_at
                """, guildID, name, roleID, epoch ?? 0, at.storeMilliseconds)
            return CreatedRole(guildID: guildID, name: name, roleID: roleID, epoch: epoch ?? 0, createdAt: at)
        }
    }

    /// The roles Warden created in `guildID`, by name.
    public func createdRoles(guildID: Snowflake) async throws -> [CreatedRole] {
        try await read { tx in
            try tx.rows("SELECT guild_id, name, role_id, epoch, created_at FROM created_role WHERE guild_id = ? ORDER BY name", guildID) { row in
                CreatedRole(guildID: try row.snowflake(0), name: try row.string(1), roleID: try row.snowflake(2),
                            epoch: try row.int64(3), createdAt: try row.date(4))
            }
        }
    }

    /// Forgets a created role (deleted or renamed on Discord, so the cache answers for the name again).
    /// Returns whether there was such a record.
    @discardableResult
    public func forgetCreatedRole(roleID: Snowflake, epoch: Int64?) async throws -> Bool {
        try await write { tx, _ in
            try Self.checkEpoch(epoch, in: tx)
            return try tx.execute("DELETE FROM created_role WHERE role_id = ?", roleID) > 0
        }
    }
}

/// A role Warden created, as the store remembers it.
public struct CreatedRole: Hashable, Sendable {
    public var guildID: Snowflake
    public var name: String
    public var roleID: Snowflake
    /// The epoch of the leader that created it (0 for a single instance without a lease).
    public var epoch: Int64
    public var createdAt: Date
}
