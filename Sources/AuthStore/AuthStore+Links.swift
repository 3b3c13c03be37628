import AuthModels
import DiscordModels
import Foundation

// Discord links (SPEC 1.4, 1.9): one account per Auth user, one Auth user per account.
extension AuthStore {
    /// Links a Discord account to an Auth user (the OAuth callback), storing its current username.
    /// Linking the same pair again only refreshes the stored username and keeps the activation time.
    /// - Throws: ``AuthStoreError/unknownUser(_:)``,
    ///   ``AuthStoreError/discordAccountLinkedToAnotherUser(uid:userID:)`` (the callback answers 409 and
    ///   records a `link_refused` notification), ``AuthStoreError/userLinkedToAnotherAccount(userID:uid:)``.
    @discardableResult
    public func link(userID: Int64, to account: DiscordModels.User) async throws -> DiscordLink {
        let at = stamp()
        return try await write { tx, changes in
            if let created = try Self.link(userID: userID, discordUser: account, uid: account.id, at: at, in: tx, changes: &changes) {
                return created
            }
            _ = try Self.updateProfile(account, in: tx)
            guard let link = try Self.fetchLink(tx, userID: userID) else { throw AuthStoreError.unknownUser(userID) }
            return link
        }
    }

    /// Removes a link, and in the same transaction records a notification for its user if one is
    /// given (`account_disabled`, `left_guild`). Returns the removed link, or nil if there was none
    /// (then no notification is recorded either).
    @discardableResult
    public func unlink(_ key: LinkKey, notification: (kind: AuthNotification.Kind, message: String)? = nil) async throws -> DiscordLink? {
        let at = stamp()
        return try await write { tx, changes in
            let link: DiscordLink? = switch key {
            case .user(let userID): try Self.fetchLink(tx, userID: userID)
            case .uid(let uid): try Self.fetchLink(tx, uid: uid)
            }
            guard let link else { return nil }
            try tx.execute("DELETE FROM discord_link WHERE user_id = ?", link.userID)
            if let notification {
                _ = try Self.addNotification(userID: link.userID, kind: notification.kind, message: notification.message, at: at, in: tx)
            }
            changes.append(.unlinked(userID: link.userID, uid: link.uid))
            return link
        }
    }

    /// The link of an Auth user, or nil.
    public func discordLink(userID: Int64) async throws -> DiscordLink? {
        try await read { tx in try Self.fetchLink(tx, userID: userID) }
    }

    /// The link of a Discord account, or nil.
    public func discordLink(uid: Snowflake) async throws -> DiscordLink? {
        try await read { tx in try Self.fetchLink(tx, uid: uid) }
    }

    /// Every link, ordered by user id.
    public func discordLinks() async throws -> [DiscordLink] {
        try await read { tx in
            try tx.rows("SELECT \(Self.linkColumns) FROM discord_link ORDER BY user_id", transform: Self.discordLink)
        }
    }

    /// How many Auth users are linked (`linked_users` in status).
    public func linkCount() async throws -> Int {
        try await read { tx in Int(try tx.integer("SELECT count(*) FROM discord_link") ?? 0) }
    }

    /// Refreshes the stored username, discriminator and global name of the account's link from the
    /// gateway cache. Returns whether anything changed (false also when the account is not linked).
    @discardableResult
    public func updateDiscordProfile(_ account: DiscordModels.User) async throws -> Bool {
        try await write { tx, _ in try Self.updateProfile(account, in: tx) }
    }

    /// Refreshes many stored profiles in one transaction; returns how many changed.
    @discardableResult
    public func updateDiscordProfiles(_ accounts: [DiscordModels.User]) async throws -> Int {
        try await write { tx, _ in
            var changed = 0
            for account in accounts where try Self.updateProfile(account, in: tx) { changed += 1 }
            return changed
        }
    }

    // MARK: - Inside a transaction

    /// Makes the link unless the very same one exists (then returns nil); refuses anything the
    /// uniqueness rules forbid, before the schema's constraints would.
    static func link(userID: Int64, discordUser: DiscordModels.User?, uid: Snowflake, at: Date,
                     in tx: any StoreTransaction, changes: inout [AuthStoreChange]) throws -> DiscordLink? {
        if let holder = try fetchLink(tx, uid: uid) {
            guard holder.userID == userID else {
                throw AuthStoreError.discordAccountLinkedToAnotherUser(uid: uid, userID: holder.userID)
            }
            return nil
        }
        if let current = try fetchLink(tx, userID: userID) {
            throw AuthStoreError.userLinkedToAnotherAccount(userID: userID, uid: current.uid)
        }
        guard try userExists(tx, userID) else { throw AuthStoreError.unknownUser(userID) }
        let link = DiscordLink(userID: userID, uid: uid, username: discordUser?.username,
                               discriminator: discordUser?.discriminator, globalName: discordUser?.globalName,
                               activatedAt: at)
        try tx.execute("""
            INSERT INTO discord_link (user_id, uid, username, discriminator, global_name, activated_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """, userID, uid, link.username, link.discriminator, link.globalName, at.storeMilliseconds)
        changes.append(.linked(userID: userID, uid: uid))
        return link
    }

    static func userExists(_ tx: any StoreTransaction, _ userID: Int64) throws -> Bool {
        try tx.exists("SELECT 1 FROM auth_user WHERE id = ?", userID)
    }

    static func updateProfile(_ account: DiscordModels.User, in tx: any StoreTransaction) throws -> Bool {
        // `IS DISTINCT FROM` compares NULLs as values, so an unknown (NULL) name counts as a difference.
        try tx.execute("""
            UPDATE discord_link SET username = ?, discriminator = ?, global_name = ?
            WHERE uid = ? AND (username IS DISTINCT FROM ? OR discriminator IS DISTINCT FROM ? OR global_name IS DISTINCT FROM ?)
            """, account.username, account.discriminator, account.globalName, account.id,
            account.username, account.discriminator, account.globalName) > 0
    }

    static let linkColumns = "user_id, uid, username, discriminator, global_name, activated_at"

    static func fetchLink(_ tx: any StoreTransaction, userID: Int64) throws -> DiscordLink? {
        try tx.firstRow("SELECT \(linkColumns) FROM discord_link WHERE user_id = ?", userID, transform: discordLink)
    }

    static func fetchLink(_ tx: any StoreTransaction, uid: Snowflake) throws -> DiscordLink? {
        try tx.firstRow("SELECT \(linkColumns) FROM discord_link WHERE uid = ?", uid, transform: discordLink)
    }

    static func discordLink(_ row: any StoreRow) throws -> DiscordLink {
        DiscordLink(userID: try row.int64(0), uid: try row.snowflake(1), username: try row.stringOrNil(2),
                    discriminator: try row.stringOrNil(3), globalName: try row.stringOrNil(4), activatedAt: try row.date(5))
    }
}
