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
    /// The store's schema is at version `found`, newer than this Warden can use (it knows up to
    /// `supported`, and a step after that is not additive). `warden run` exits with 2.
    case schemaTooNew(found: Int, supported: Int)
    /// A write of enforcement state under `epoch` was refused: the lease is at `current` now (another
    /// instance leads; SPEC 7 fencing). Nothing was written.
    case staleEpoch(epoch: Int64, current: Int64)
    /// The database cannot be reached or refused the login (`reason` names the server and why; never
    /// the password).
    case unreachable(String)
    /// The database refused a statement (`reason` is the server's message and SQLSTATE).
    case database(String)
    /// The operation does not exist for this kind of store.
    case unsupported(String)

    /// The JSON field the error is about, for `{"error": …}` answers; nil when it is about no field.
    public var field: String? {
        switch self {
        case .invalidRecord(_, let field, _): field
        case .discordAccountLinkedToAnotherUser, .userLinkedToAnotherAccount: "discord"
        case .unknownUser: "id"
        case .batchRecord(_, let error): error.field
        case .unknownTaskRun, .schemaTooNew, .staleEpoch, .unreachable, .database, .unsupported: nil
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
        case .schemaTooNew(let found, let supported):
            "the store's schema is version \(found), newer than this Warden can use (it supports schema versions up to \(supported)): "
                + "upgrade this Warden; refusing to open the store"
        case .staleEpoch(let epoch, let current):
            "refused a write under leader epoch \(epoch): the lease is at epoch \(current) (another instance leads)"
        case .unreachable(let reason):
            "cannot reach the store: \(reason)"
        case .database(let reason):
            "the store refused a statement: \(reason)"
        case .unsupported(let what):
            what
        }
    }
}
