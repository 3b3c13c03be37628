import AuthModels
import DiscordModels
import Foundation

// Auth user records (SPEC 1.1, 3.3).
extension AuthStore {
    /// Stores one record (and imports its link, if it carries one) in one transaction.
    /// - Throws: ``AuthStoreError/invalidRecord(userID:field:reason:)`` for a record that breaks SPEC 1.1,
    ///   ``AuthStoreError/discordAccountLinkedToAnotherUser(uid:userID:)`` or
    ///   ``AuthStoreError/userLinkedToAnotherAccount(userID:uid:)`` for an import that breaks the link rules.
    ///   Nothing is stored when it throws.
    @discardableResult
    public func upsert(_ record: AuthUserImport) async throws -> UserUpsert {
        let at = stamp()
        return try await write { tx, changes in
            var revisions = try RevisionCounter(tx)
            let existing = try Self.fetchUsers(tx, ids: [record.user.id]).first
            let result = try Self.upsert(record, existing: existing, at: at, in: tx, revisions: &revisions, changes: &changes)
            try revisions.save(tx)
            return result
        }
    }

    /// Stores one record without a link import.
    @discardableResult
    public func upsert(_ user: AuthUser) async throws -> UserUpsert {
        try await upsert(AuthUserImport(user: user))
    }

    /// Stores many records in ONE transaction: all of them, or, if any is refused, none
    /// (``AuthStoreError/batchRecord(index:_:)`` names the first bad one). A user id may appear once.
    @discardableResult
    public func upsert(_ records: [AuthUserImport]) async throws -> [UserUpsert] {
        let at = stamp()
        return try await write { tx, changes in
            var revisions = try RevisionCounter(tx)
            // The stored versions of the batch's users, read in a few queries rather than one per record.
            var existing: [Int64: StoredUser] = [:]
            existing.reserveCapacity(records.count)
            for stored in try Self.fetchUsers(tx, ids: records.map(\.user.id)) { existing[stored.user.id] = stored }
            var seen = Set<Int64>(minimumCapacity: records.count)
            var results: [UserUpsert] = []
            results.reserveCapacity(records.count)
            for (index, record) in records.enumerated() {
                do {
                    guard seen.insert(record.user.id).inserted else {
                        throw AuthStoreError.invalidRecord(userID: record.user.id, field: "id", reason: "appears more than once in the batch")
                    }
                    results.append(try Self.upsert(record, existing: existing[record.user.id], at: at, in: tx,
                                                   revisions: &revisions, changes: &changes))
                } catch let error as AuthStoreError {
                    throw AuthStoreError.batchRecord(index: index, error)
                }
            }
            try revisions.save(tx)
            return results
        }
    }

    /// The stored record of a user, or nil.
    public func user(id: Int64) async throws -> StoredUser? {
        try await read { tx in try Self.fetchUsers(tx, ids: [id]).first }
    }

    /// Everything `GET /api/users/{id}` shows, read in one transaction; nil for an unknown user.
    public func overview(userID: Int64) async throws -> UserOverview? {
        try await read { tx in
            guard let stored = try Self.fetchUsers(tx, ids: [userID]).first else { return nil }
            return UserOverview(stored: stored, link: try Self.fetchLink(tx, userID: userID),
                                enforcement: try Self.fetchEnforcement(tx, userID: userID, discordUID: nil))
        }
    }

    /// Every stored record, ordered by id, in one query (for audits).
    public func users() async throws -> [StoredUser] {
        try await read { tx in try Self.fetchUsers(tx) }
    }

    /// Every linked user with its link, ordered by user id, in one query (for audits).
    public func linkedUsers() async throws -> [LinkedUser] {
        try await read { tx in try Self.fetchLinkedUsers(tx) }
    }

    /// The linked user of a Discord account with its link, read in one transaction; nil if the
    /// account is not linked (the enforcer's per-member lookup).
    public func linkedUser(uid: Snowflake) async throws -> LinkedUser? {
        try await read { tx in
            guard let link = try Self.fetchLink(tx, uid: uid),
                  let stored = try Self.fetchUsers(tx, ids: [link.userID]).first else { return nil }
            return LinkedUser(stored: stored, link: link)
        }
    }

    /// Forgets a user (deleted in Auth): its record, groups, link and enforcement record go; its
    /// notifications and task runs stay. Returns what was removed (the link tells whom to kick), or nil.
    @discardableResult
    public func deleteUser(id: Int64) async throws -> UserOverview? {
        try await write { tx, changes in
            guard let stored = try Self.fetchUsers(tx, ids: [id]).first else { return nil }
            let link = try Self.fetchLink(tx, userID: id)
            let enforcement = try Self.fetchEnforcement(tx, userID: id, discordUID: nil)
            // Links, groups and the enforcement record go with the row (ON DELETE CASCADE).
            try tx.execute("DELETE FROM auth_user WHERE id = ?", id)
            changes.append(.userDeleted(id: id, uid: link?.uid))
            return UserOverview(stored: stored, link: link, enforcement: enforcement)
        }
    }

    /// Every group name and every state name of every stored record: the names of Auth-managed roles
    /// (the unlinked `strip` policy, SPEC 1.4). Exact stored text; callers compare by canonical equivalence.
    public func groupAndStateNames() async throws -> Set<String> {
        try await read { tx in
            Set(try tx.rows("SELECT name FROM auth_user_group UNION SELECT state FROM auth_user") { try $0.string(0) })
        }
    }

    /// The revision the next change will exceed: the last one handed out.
    public func currentRevision() async throws -> Int64 {
        try await read { tx in try tx.integer("SELECT value FROM store_revision WHERE id = 1") ?? 0 }
    }

    // MARK: - Inside a transaction

    /// Upserts one record given its stored version (nil if none), inside the caller's transaction.
    static func upsert(_ record: AuthUserImport, existing: StoredUser?, at: Date, in tx: any StoreTransaction,
                       revisions: inout RevisionCounter, changes: inout [AuthStoreChange]) throws -> UserUpsert {
        let user = record.user
        try validate(user)
        let stored: StoredUser
        let change: UserUpsert.Change
        if let existing, existing.user == user {
            stored = existing
            change = .unchanged
        } else {
            stored = StoredUser(user: user, revision: revisions.next(), updatedAt: at)
            // Exact text, not String's canonical equivalence: what is stored is what was sent.
            let groupsChanged = existing.map { !$0.user.groups.elementsEqual(user.groups) { $0.unicodeScalars.elementsEqual($1.unicodeScalars) } } ?? true
            try write(stored, groupsChanged: groupsChanged, in: tx)
            change = existing == nil ? .created : .changed
            changes.append(.userChanged(id: user.id, revision: stored.revision))
        }
        var imported: DiscordLink?
        if let uid = record.discordUID {
            guard uid.rawValue > 0 else {
                throw AuthStoreError.invalidRecord(userID: user.id, field: "discord.uid", reason: "must be a positive Discord id")
            }
            imported = try link(userID: user.id, discordUser: nil, uid: uid, at: at, in: tx, changes: &changes)
        }
        return UserUpsert(stored: stored, change: change, importedLink: imported)
    }

    static func validate(_ user: AuthUser) throws {
        func refuse(_ field: String, _ reason: String) -> AuthStoreError {
            .invalidRecord(userID: user.id, field: field, reason: reason)
        }
        guard user.id > 0 else { throw refuse("id", "must be a positive integer") }
        guard !user.username.isEmpty else { throw refuse("username", "must not be empty") }
        guard !user.state.isEmpty else { throw refuse("state", "must not be empty") }
        if user.groups.contains(where: \.isEmpty) { throw refuse("groups", "a group name must not be empty") }
        if let main = user.mainCharacter, main.characterName.isEmpty {
            throw refuse("main_character.character_name", "must not be empty")
        }
        // PostgreSQL's text cannot hold U+0000, and no Auth name has one: refused on either store alike.
        var texts: [(String, String)] = [("username", user.username), ("state", user.state)] + user.groups.map { ("groups", $0) }
        if let main = user.mainCharacter {
            texts += [("main_character.character_name", main.characterName), ("main_character.corporation_name", main.corporationName),
                      ("main_character.corporation_ticker", main.corporationTicker)]
            texts += [("main_character.alliance_name", main.allianceName), ("main_character.alliance_ticker", main.allianceTicker)]
                .compactMap { field, text in text.map { (field, $0) } }
        }
        if let (field, _) = texts.first(where: { $0.1.unicodeScalars.contains("\u{0}") }) {
            throw refuse(field, "must not contain the NUL character (U+0000)")
        }
    }

    private static func write(_ stored: StoredUser, groupsChanged: Bool, in tx: any StoreTransaction) throws {
        let user = stored.user
        let main = user.mainCharacter
        // An upsert, never INSERT OR REPLACE: a replace deletes the row first, and the cascade would
        // take the user's link and enforcement record with it.
        try tx.execute("""
            INSERT INTO auth_user (id, username, active, state, can_access_discord,
                character_id, character_name, corporation_id, corporation_name, corporation_ticker,
                alliance_id, alliance_name, alliance_ticker, revision, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET
                username = excluded.username, active = excluded.active, state = excluded.state,
                can_access_discord = excluded.can_access_discord,
                character_id = excluded.character_id, character_name = excluded.character_name,
                corporation_id = excluded.corporation_id, corporation_name = excluded.corporation_name,
                corporation_ticker = excluded.corporation_ticker, alliance_id = excluded.alliance_id,
                alliance_name = excluded.alliance_name, alliance_ticker = excluded.alliance_ticker,
                revision = excluded.revision, updated_at = excluded.updated_at
            """,
            user.id, user.username, user.active, user.state, user.canAccessDiscord,
            main?.characterID, main?.characterName, main?.corporationID, main?.corporationName,
            main?.corporationTicker, main?.allianceID, main?.allianceName, main?.allianceTicker,
            stored.revision, stored.updatedAt.storeMilliseconds)
        guard groupsChanged else { return }
        try tx.execute("DELETE FROM auth_user_group WHERE user_id = ?", user.id)
        for (position, name) in user.groups.enumerated() {
            try tx.execute("INSERT INTO auth_user_group (user_id, position, name) VALUES (?, ?, ?)", user.id, position, name)
        }
    }

    private static let userColumns = """
        u.id, u.username, u.active, u.state, u.can_access_discord, u.character_id, u.character_name,
        u.corporation_id, u.corporation_name, u.corporation_ticker, u.alliance_id, u.alliance_name,
        u.alliance_ticker, u.revision, u.updated_at
        """
    /// Index of the group name column, right after the user columns.
    private static let groupColumn = 15

    /// Every user with its groups in one query: a LEFT JOIN gives one row per group (one row with a
    /// NULL group for a user without groups), folded into records in one pass.
    static func fetchUsers(_ tx: any StoreTransaction) throws -> [StoredUser] {
        var users: [StoredUser] = []
        try tx.forEachRow("""
            SELECT \(userColumns), g.name
            FROM auth_user u LEFT JOIN auth_user_group g ON g.user_id = u.id
            ORDER BY u.id, g.position
            """, arguments: []) { try fold($0, into: &users) }
        return users
    }

    /// The stored users among `ids` (in id order), a few hundred ids per query.
    static func fetchUsers(_ tx: any StoreTransaction, ids: [Int64]) throws -> [StoredUser] {
        var users: [StoredUser] = []
        if ids.count == 1 {
            try tx.forEachRow("""
                SELECT \(userColumns), g.name
                FROM auth_user u LEFT JOIN auth_user_group g ON g.user_id = u.id
                WHERE u.id = ? ORDER BY g.position
                """, arguments: [.integer(ids[0])]) { try fold($0, into: &users) }
            return users
        }
        let chunkSize = 500
        for start in stride(from: 0, to: ids.count, by: chunkSize) {
            let chunk = ids[start..<min(start + chunkSize, ids.count)]
            try tx.forEachRow("""
                SELECT \(userColumns), g.name
                FROM auth_user u LEFT JOIN auth_user_group g ON g.user_id = u.id
                WHERE u.id IN (\(placeholders(count: chunk.count)))
                ORDER BY u.id, g.position
                """, arguments: chunk.map { .integer($0) }) { try fold($0, into: &users) }
        }
        return users
    }

    /// Adds a row of the user-with-groups join to `users`: a new record, or one more group of the last.
    private static func fold(_ row: any StoreRow, into users: inout [StoredUser]) throws {
        let id = try row.int64(0)
        if users.last?.user.id != id { users.append(try storedUser(row)) }
        if let group = try row.stringOrNil(groupColumn) { users[users.count - 1].user.groups.append(group) }
    }

    /// Linked users with their links and groups in one query, ordered by user id.
    static func fetchLinkedUsers(_ tx: any StoreTransaction) throws -> [LinkedUser] {
        var linked: [LinkedUser] = []
        try tx.forEachRow("""
            SELECT \(userColumns), g.name,
                l.uid, l.username, l.discriminator, l.global_name, l.activated_at
            FROM auth_user u JOIN discord_link l ON l.user_id = u.id
            LEFT JOIN auth_user_group g ON g.user_id = u.id
            ORDER BY u.id, g.position
            """, arguments: []) { row in
            let id = try row.int64(0)
            if linked.last?.stored.user.id != id {
                let link = DiscordLink(userID: id, uid: try row.snowflake(groupColumn + 1),
                                       username: try row.stringOrNil(groupColumn + 2), discriminator: try row.stringOrNil(groupColumn + 3),
                                       globalName: try row.stringOrNil(groupColumn + 4),
                                       activatedAt: try row.date(groupColumn + 5))
                linked.append(LinkedUser(stored: try storedUser(row), link: link))
            }
            if let group = try row.stringOrNil(groupColumn) { linked[linked.count - 1].stored.user.groups.append(group) }
        }
        return linked
    }

    /// The record in the user columns of `row`, groups still empty.
    private static func storedUser(_ row: any StoreRow) throws -> StoredUser {
        var main: MainCharacter?
        if let characterID = try row.int64OrNil(5) {
            main = MainCharacter(characterID: characterID, characterName: try row.string(6), corporationID: try row.int64(7),
                                 corporationName: try row.string(8), corporationTicker: try row.string(9),
                                 allianceID: try row.int64OrNil(10), allianceName: try row.stringOrNil(11),
                                 allianceTicker: try row.stringOrNil(12))
        }
        let user = AuthUser(id: try row.int64(0), username: try row.string(1), active: try row.bool(2), state: try row.string(3),
                            groups: [], canAccessDiscord: try row.bool(4), mainCharacter: main)
        return StoredUser(user: user, revision: try row.int64(13), updatedAt: try row.date(14))
    }
}

/// Hands out store revisions inside one transaction: reads the counter once (locking it, so concurrent
/// writers on PostgreSQL take their turns), saves it once.
struct RevisionCounter {
    private let start: Int64
    private var last: Int64

    init(_ tx: any StoreTransaction) throws {
        start = try tx.integer("SELECT value FROM store_revision WHERE id = 1" + tx.dialect.forUpdate) ?? 0
        last = start
    }

    mutating func next() -> Int64 {
        last += 1
        return last
    }

    func save(_ tx: any StoreTransaction) throws {
        guard last != start else { return }
        try tx.execute("UPDATE store_revision SET value = ? WHERE id = 1", last)
    }
}
