import AuthModels
import DiscordModels
import Foundation
import GRDB

// The linking callback's hold on a (user, Discord account) pair, and the activation links a link spends
// (SPEC 1.9).
//
// A callback reserves its pair before it sends anything to Discord and holds it until the link is
// stored (`completeLink`) or the attempt gives up (`releaseLinkReservation`). One user is never
// reserved with two accounts, nor one account with two users, so two callbacks sent together can
// never both add an account. A reservation expires on its own, so a crash mid-link blocks nobody for
// longer than that.
//
// Each user has a link generation, bumped by every completed link. Activation links (and the states
// they issue) carry the generation they were issued at: once a link completes, every earlier one is
// dead, even after a restart.
extension AuthStore {
    /// Reserves the pair for one callback, or says why not. The same pair reserved by two callbacks at
    /// once is allowed (the same account twice is simply linked); each must complete or release its own.
    /// Expired reservations are pruned in the same transaction.
    /// - Parameters:
    ///   - generation: the link generation the callback's activation link was issued at.
    ///   - expiresAt: when the reservation lapses if the callback never completes or releases it.
    public func reserveLink(userID: Int64, uid: Snowflake, generation: Int64, expiresAt: Date) async throws -> LinkReservationOutcome {
        let now = stamp().storeMilliseconds
        let expiry = expiresAt.storeMilliseconds
        return try await write { db, _ in
            try db.execute(sql: "DELETE FROM link_reservation WHERE expires_at <= ?", arguments: [now])
            guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM auth_user WHERE id = ?)"),
                                    arguments: [userID]) == true else {
                return .unknownUser
            }
            // Links first: what is stored decides, whatever the activation link says.
            if let holder = try Self.fetchLink(db, uid: uid), holder.userID != userID {
                return .accountTaken(byUserID: holder.userID)
            }
            if let own = try Self.fetchLink(db, userID: userID) {
                if own.uid != uid { return .userTaken(uid: own.uid) }
                if try Self.linkGeneration(db, userID: userID) != generation { return .alreadyLinked(own) }
            } else if try Self.linkGeneration(db, userID: userID) != generation {
                return .linkSpent
            }
            if let other = try Row.fetchOne(db, sql: "SELECT user_id FROM link_reservation WHERE uid = ? AND user_id != ?",
                                            arguments: [uid.databaseValue, userID]) {
                return .accountTaken(byUserID: other[0])
            }
            if let held = try Row.fetchOne(db, sql: "SELECT uid FROM link_reservation WHERE user_id = ?", arguments: [userID]) {
                let heldUID = Snowflake(databaseValue: held[0])
                guard heldUID == uid else { return .userTaken(uid: heldUID) }
                try db.execute(sql: "UPDATE link_reservation SET holders = holders + 1, expires_at = max(expires_at, ?) WHERE user_id = ?",
                               arguments: [expiry, userID])
            } else {
                try db.execute(sql: "INSERT INTO link_reservation (user_id, uid, holders, expires_at) VALUES (?, ?, 1, ?)",
                               arguments: [userID, uid.databaseValue, expiry])
            }
            return .reserved(LinkReservation(userID: userID, uid: uid, expiresAt: Date(storeMilliseconds: expiry)))
        }
    }

    /// Stores the reserved link with the account's current names, spends the user's activation links
    /// (bumps the link generation) and releases the reservation, in one transaction: all or nothing.
    /// Linking the same pair again only refreshes the stored names.
    /// - Throws: what ``link(userID:to:)`` throws (e.g. when an import linked the account elsewhere
    ///   meanwhile); then nothing changed and the reservation is still held.
    @discardableResult
    public func completeLink(_ reservation: LinkReservation, account: DiscordModels.User) async throws -> DiscordLink {
        precondition(account.id == reservation.uid, "the account must be the reserved one")
        let at = stamp()
        return try await write { db, changes in
            let link: DiscordLink
            if let created = try Self.link(userID: reservation.userID, discordUser: account, uid: account.id, at: at, in: db, changes: &changes) {
                link = created
            } else {
                _ = try Self.updateProfile(account, in: db)
                guard let existing = try Self.fetchLink(db, userID: reservation.userID) else {
                    throw AuthStoreError.unknownUser(reservation.userID)
                }
                link = existing
            }
            try db.execute(sql: """
                INSERT INTO link_generation (user_id, generation) VALUES (?, 1)
                ON CONFLICT (user_id) DO UPDATE SET generation = generation + 1
                """, arguments: [reservation.userID])
            try Self.release(reservation, in: db)
            return link
        }
    }

    /// Gives up a reservation (the attempt failed or was refused). Releasing one already expired or
    /// released does nothing.
    public func releaseLinkReservation(_ reservation: LinkReservation) async throws {
        try await write { db, _ in try Self.release(reservation, in: db) }
    }

    /// The user's link generation: 0 until a link through an activation link completes, then one more
    /// for each.
    public func linkGeneration(userID: Int64) async throws -> Int64 {
        try await read { db in try Self.linkGeneration(db, userID: userID) }
    }

    /// Reservations not yet expired or released (for status and tests).
    public func linkReservations() async throws -> [LinkReservation] {
        let now = stamp().storeMilliseconds
        return try await read { db in
            try Row.fetchAll(db, sql: "SELECT user_id, uid, expires_at FROM link_reservation WHERE expires_at > ? ORDER BY user_id",
                             arguments: [now])
                .map { LinkReservation(userID: $0[0], uid: Snowflake(databaseValue: $0[1]), expiresAt: Date(storeMilliseconds: $0[2])) }
        }
    }

    // MARK: - Inside a transaction

    static func linkGeneration(_ db: Database, userID: Int64) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT generation FROM link_generation WHERE user_id = ?"), arguments: [userID]) ?? 0
    }

    /// The last holder deletes the row; any other only counts itself out.
    static func release(_ reservation: LinkReservation, in db: Database) throws {
        let pair: StatementArguments = [reservation.userID, reservation.uid.databaseValue]
        try db.execute(sql: "DELETE FROM link_reservation WHERE user_id = ? AND uid = ? AND holders <= 1", arguments: pair)
        try db.execute(sql: "UPDATE link_reservation SET holders = holders - 1 WHERE user_id = ? AND uid = ?", arguments: pair)
    }
}

/// A (user, Discord account) pair held by a linking callback until it stores the link or gives up.
public struct LinkReservation: Hashable, Sendable {
    public var userID: Int64
    public var uid: Snowflake
    /// When the hold lapses on its own (a crashed attempt).
    public var expiresAt: Date
}

/// What ``AuthStore/reserveLink(userID:uid:generation:expiresAt:)`` found.
public enum LinkReservationOutcome: Hashable, Sendable {
    /// The pair is held for this callback.
    case reserved(LinkReservation)
    /// The user is already linked to this very account by an activation link issued later: nothing to do.
    case alreadyLinked(DiscordLink)
    /// The account is linked to, or being linked by, another Auth user.
    case accountTaken(byUserID: Int64)
    /// The user is linked to, or being linked with, another Discord account.
    case userTaken(uid: Snowflake)
    /// The activation link was spent: a link completed after it was issued.
    case linkSpent
    /// No such Auth user.
    case unknownUser
}
