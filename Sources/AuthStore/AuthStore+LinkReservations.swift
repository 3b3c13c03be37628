import AuthModels
import DiscordModels
import Foundation

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
        return try await write { tx, _ in
            try tx.execute("DELETE FROM link_reservation WHERE expires_at <= ?", now)
            guard try Self.userExists(tx, userID) else { return .unknownUser }
            // Links first: what is stored decides, whatever the activation link says.
            if let holder = try Self.fetchLink(tx, uid: uid), holder.userID != userID {
                return .accountTaken(byUserID: holder.userID)
            }
            if let own = try Self.fetchLink(tx, userID: userID) {
                if own.uid != uid { return .userTaken(uid: own.uid) }
                if try Self.linkGeneration(tx, userID: userID) != generation { return .alreadyLinked(own) }
            } else if try Self.linkGeneration(tx, userID: userID) != generation {
                return .linkSpent
            }
            if let other = try tx.integer("SELECT user_id FROM link_reservation WHERE uid = ? AND user_id != ?", uid, userID) {
                return .accountTaken(byUserID: other)
            }
            if let held = try tx.integer("SELECT uid FROM link_reservation WHERE user_id = ?", userID) {
                let heldUID = Snowflake(databaseValue: held)
                guard heldUID == uid else { return .userTaken(uid: heldUID) }
                try tx.execute("UPDATE link_reservation SET holders = holders + 1, expires_at = \(tx.dialect.greatest("expires_at", "?")) WHERE user_id = ?",
                               expiry, userID)
            } else {
                try tx.execute("INSERT INTO link_reservation (user_id, uid, holders, expires_at) VALUES (?, ?, 1, ?)", userID, uid, expiry)
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
        return try await write { tx, changes in
            let link: DiscordLink
            if let created = try Self.link(userID: reservation.userID, discordUser: account, uid: account.id, at: at, in: tx, changes: &changes) {
                link = created
            } else {
                _ = try Self.updateProfile(account, in: tx)
                guard let existing = try Self.fetchLink(tx, userID: reservation.userID) else {
                    throw AuthStoreError.unknownUser(reservation.userID)
                }
                link = existing
            }
            try tx.execute("""
                INSERT INTO link_generation (user_id, generation) VALUES (?, 1)
                ON CONFLICT (user_id) DO UPDATE SET generation = link_generation.generation + 1
                """, reservation.userID)
            try Self.release(reservation, in: tx)
            return link
        }
    }

    /// Gives up a reservation (the attempt failed or was refused). Releasing one already expired or
    /// released does nothing.
    public func releaseLinkReservation(_ reservation: LinkReservation) async throws {
        try await write { tx, _ in try Self.release(reservation, in: tx) }
    }

    /// The user's link generation: 0 until a link through an activation link completes, then one more
    /// for each.
    public func linkGeneration(userID: Int64) async throws -> Int64 {
        try await read { tx in try Self.linkGeneration(tx, userID: userID) }
    }

    /// Reservations not yet expired or released (for status and tests).
    public func linkReservations() async throws -> [LinkReservation] {
        let now = stamp().storeMilliseconds
        return try await read { tx in
            try tx.rows("SELECT user_id, uid, expires_at FROM link_reservation WHERE expires_at > ? ORDER BY user_id", now) { row in
                LinkReservation(userID: try row.int64(0), uid: try row.snowflake(1), expiresAt: try row.date(2))
            }
        }
    }

    // MARK: - Inside a transaction

    static func linkGeneration(_ tx: any StoreTransaction, userID: Int64) throws -> Int64 {
        try tx.integer("SELECT generation FROM link_generation WHERE user_id = ?", userID) ?? 0
    }

    /// The last holder deletes the row; any other only counts itself out.
    static func release(_ reservation: LinkReservation, in tx: any StoreTransaction) throws {
        try tx.execute("DELETE FROM link_reservation WHERE user_id = ? AND uid = ? AND holders <= 1", reservation.userID, reservation.uid)
        try tx.execute("UPDATE link_reservation SET holders = holders - 1 WHERE user_id = ? AND uid = ?", reservation.userID, reservation.uid)
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
