import AuthModels
import AuthStore
import DiscordModels
import RoleSync

/// Auth's records and Discord links as the enforcer holds them (a mirror of the store's, kept current
/// from its change feed), with what a full audit reads: the `MemberWish` of every linked user that has
/// a record, in an `AuditRoster` by member id. A wish is built when its record or link changes, never
/// per audit. Links are one to one, as in the store.
struct AuthUsers {
    let config: RoleSyncConfig
    private(set) var records: [Int64: AuthUser] = [:]
    private(set) var uidOfUser: [Int64: Snowflake] = [:]
    private(set) var userOfUID: [Snowflake: Int64] = [:]
    /// Exactly the links whose user has a record, each with the wish of that record.
    private(set) var roster = AuditRoster()

    init(config: RoleSyncConfig) { self.config = config }

    var values: Dictionary<Int64, AuthUser>.Values { records.values }

    subscript(id: Int64) -> AuthUser? {
        get { records[id] }
        set {
            records[id] = newValue
            if let uid = uidOfUser[id] { refresh(uid) }
        }
    }

    /// Replaces every record and link (the store's state at start).
    mutating func replaceAll(users: [AuthUser], links: [(uid: Snowflake, userID: Int64)]) {
        records = Dictionary(users.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        uidOfUser = [:]
        userOfUID = [:]
        roster = AuditRoster()
        for link in links { self.link(uid: link.uid, userID: link.userID) }
    }

    /// Links `uid` to `userID`, replacing any link either had.
    mutating func link(uid: Snowflake, userID: Int64) {
        if let old = uidOfUser[userID], old != uid { unlink(old) }
        if let other = userOfUID[uid], other != userID { unlink(uid) }
        uidOfUser[userID] = uid
        userOfUID[uid] = userID
        refresh(uid)
    }

    /// Removes the link of `uid`; returns the user it linked.
    @discardableResult
    mutating func unlink(_ uid: Snowflake) -> Int64? {
        guard let userID = userOfUID.removeValue(forKey: uid) else { return nil }
        uidOfUser[userID] = nil
        roster.set(nil, for: uid)
        return userID
    }

    /// Brings `uid`'s wish in the roster in line with its link and record.
    private mutating func refresh(_ uid: Snowflake) {
        let user = userOfUID[uid].flatMap { records[$0] }
        roster.set(user.map { MemberWish(for: $0, config: config) }, for: uid)
    }
}
