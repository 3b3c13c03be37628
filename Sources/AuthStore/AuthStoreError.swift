import DiscordModels

/// Why the store refused an operation. Each case names what was wrong so the admin API can answer
/// 400 naming the field; no case ever carries a secret.
public indirect enum AuthStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A record broke a rule of SPEC 1.1 (`field` is the JSON key, e.g. `username`, `groups`, `discord`).
    case invalidRecord(userID: Int64?, field: String, reason: String)
    /// No Auth record with this id.
    case unknownUser(Int64)
    /// The Discord account is already linked to another Auth user (one Auth user per account).
    case discordAccountLinkedToAnotherUser(uid: Snowflake, userID: Int64)
    /// The Auth user is already linked to another Discord account (one account per Auth user).
    case userLinkedToAnotherAccount(userID: Int64, uid: Snowflake)
    /// No task run with this id.
    case unknownTaskRun(Int64)
    /// A record of a batch was refused; nothing of the batch was stored.
    case batchRecord(index: Int, AuthStoreError)
    /// The database was migrated by a newer Warden; this one refuses to touch it.
    case databaseFromNewerVersion(unknownMigrations: [String])

    /// The JSON field the error is about, for `{"error": …}` answers; nil when it is about no field.
    public var field: String? {
        switch self {
        case .invalidRecord(_, let field, _): field
        case .discordAccountLinkedToAnotherUser, .userLinkedToAnotherAccount: "discord"
        case .unknownUser: "id"
        case .batchRecord(_, let error): error.field
        case .unknownTaskRun, .databaseFromNewerVersion: nil
        }
    }

    public var description: String {
        switch self {
        case .invalidRecord(let userID, let field, let reason):
            if let userID { "user \(userID): \(field): \(reason)" } else { "\(field): \(reason)" }
        case .unknownUser(let id):
            "no Auth user with id \(id)"
        case .discordAccountLinkedToAnotherUser(let uid, let userID):
            "discord: Discord account \(uid) is already linked to Auth user \(userID); one Discord account links to one Auth user"
        case .userLinkedToAnotherAccount(let userID, let uid):
            "discord: Auth user \(userID) is already linked to Discord account \(uid); unlink it first"
        case .unknownTaskRun(let id):
            "no task run with id \(id)"
        case .batchRecord(let index, let error):
            "record \(index): \(error); nothing was stored"
        case .databaseFromNewerVersion(let unknown):
            "the store was written by a newer Warden (unknown migrations: \(unknown.joined(separator: ", "))); refusing to open it"
        }
    }
}
