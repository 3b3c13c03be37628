import Foundation
import GRDB

// OAuth `state` values (SPEC 1.9): single use, even across a restart.
extension AuthStore {
    /// Consumes a state nonce: true the first time it is seen (and not yet expired), false for a reused
    /// or expired one. Expired nonces are pruned in the same transaction (a reuse of one after its expiry
    /// is refused by its expiry, which the signed state carries too). Pass the nonce, not the signature.
    public func consumeOAuthState(_ nonce: String, expiresAt: Date) async throws -> Bool {
        let now = stamp()
        let expiry = expiresAt.storeMilliseconds
        return try await write { db, _ in
            try db.execute(sql: "DELETE FROM oauth_state WHERE expires_at <= ?", arguments: [now.storeMilliseconds])
            guard expiry > now.storeMilliseconds else { return false }
            try db.execute(sql: "INSERT INTO oauth_state (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING",
                           arguments: [nonce, expiry])
            return db.changesCount == 1
        }
    }

    /// How many consumed nonces are remembered (not yet expired and pruned).
    public func rememberedOAuthStateCount() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM oauth_state") ?? 0 }
    }
}
