import Foundation

// OAuth `state` values (SPEC 1.9): single use, even across a restart (and across instances).
extension AuthStore {
    /// Consumes a state nonce: true the first time it is seen (and not yet expired), false for a reused
    /// or expired one. Expired nonces are pruned in the same transaction (a reuse of one after its expiry
    /// is refused by its expiry, which the signed state carries too). Pass the nonce, not the signature.
    public func consumeOAuthState(_ nonce: String, expiresAt: Date) async throws -> Bool {
        let now = stamp()
        let expiry = expiresAt.storeMilliseconds
        return try await write { tx, _ in
            try tx.execute("DELETE FROM oauth_state WHERE expires_at <= ?", now.storeMilliseconds)
            guard expiry > now.storeMilliseconds else { return false }
            return try tx.execute("INSERT INTO oauth_state (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING",
                                  nonce, expiry) == 1
        }
    }

    /// How many consumed nonces are remembered (not yet expired and pruned).
    public func rememberedOAuthStateCount() async throws -> Int {
        try await read { tx in Int(try tx.integer("SELECT count(*) FROM oauth_state") ?? 0) }
    }
}
