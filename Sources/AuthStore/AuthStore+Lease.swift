import Foundation

// The leader lease (SPEC 7): one row, who holds it, its epoch and when it expires by the database's
// clock. Every acquisition bumps the epoch (a holder re-taking its own expired lease too), so the epoch
// is a fencing token: a write of enforcement state under an older one is refused (`checkEpoch`).
//
// Lease operations run in transactions of their own (`leaseWrite`) that never wait behind the store's
// other writes, and each is one statement: atomic on either database.
extension AuthStore {
    /// Takes the lease for `instance` when it is free or expired, bumping the epoch; otherwise returns
    /// who holds it. Holding it already (unexpired) is not taking it: the holder renews instead.
    public func acquireLease(instance: String, ttl: Duration) async throws -> LeaseAcquisition {
        let ttlMilliseconds = Self.milliseconds(ttl)
        return try await backend.leaseWrite { tx in
            let now = tx.dialect.nowMilliseconds
            if let taken = try tx.firstRow("""
                UPDATE leader_lease SET holder = ?, epoch = epoch + 1, expires_at = \(now) + ?
                WHERE id = 1 AND (holder IS NULL OR expires_at <= \(now))
                RETURNING holder, epoch, expires_at
                """, instance, ttlMilliseconds, transform: Self.lease) {
                return .acquired(taken)
            }
            return .held(try Self.fetchLease(tx))
        }
    }

    /// Extends the lease held by `instance` at `epoch` by `ttl` from now (the database's clock).
    /// Returns the renewed lease, or nil when `instance` no longer holds it at that epoch (taken over,
    /// or released). A holder whose lease expired but was not taken by another may still renew.
    public func renewLease(instance: String, epoch: Int64, ttl: Duration) async throws -> Lease? {
        let ttlMilliseconds = Self.milliseconds(ttl)
        return try await backend.leaseWrite { tx in
            try tx.firstRow("""
                UPDATE leader_lease SET expires_at = \(tx.dialect.nowMilliseconds) + ?
                WHERE id = 1 AND holder = ? AND epoch = ?
                RETURNING holder, epoch, expires_at
                """, ttlMilliseconds, instance, epoch, transform: Self.lease)
        }
    }

    /// Gives the lease up at once (a leader shutting down), so a standby need not wait for it to expire.
    /// Returns false when `instance` did not hold it at `epoch`. The epoch stays: the next holder bumps it.
    @discardableResult
    public func releaseLease(instance: String, epoch: Int64) async throws -> Bool {
        try await backend.leaseWrite { tx in
            try tx.execute("UPDATE leader_lease SET holder = NULL, expires_at = 0 WHERE id = 1 AND holder = ? AND epoch = ?",
                           instance, epoch) == 1
        }
    }

    /// The lease as the database has it now, with the database's clock.
    public func currentLease() async throws -> LeaseState {
        try await backend.leaseWrite { tx in
            let lease = try Self.fetchLease(tx)
            let now = try tx.integer("SELECT \(tx.dialect.nowMilliseconds)") ?? 0
            return LeaseState(lease: lease, databaseTime: Date(storeMilliseconds: now))
        }
    }

    static func fetchLease(_ tx: any StoreTransaction) throws -> Lease {
        guard let lease = try tx.firstRow("SELECT holder, epoch, expires_at FROM leader_lease WHERE id = 1", transform: lease) else {
            throw AuthStoreError.database("the leader_lease row is missing")
        }
        return lease
    }

    static func lease(_ row: any StoreRow) throws -> Lease {
        Lease(holder: try row.stringOrNil(0), epoch: try row.int64(1), expiresAt: try row.date(2))
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// The leader lease row.
public struct Lease: Hashable, Sendable {
    /// The instance id holding it; nil when it was never taken or was released.
    public var holder: String?
    /// Grows by one with every acquisition; 0 before the first.
    public var epoch: Int64
    /// When it lapses, by the database's clock (millisecond precision).
    public var expiresAt: Date
}

/// What ``AuthStore/acquireLease(instance:ttl:)`` did.
public enum LeaseAcquisition: Hashable, Sendable {
    /// The lease is now the caller's, at a new epoch.
    case acquired(Lease)
    /// Someone (perhaps the caller itself) holds it and it has not expired.
    case held(Lease)
}

/// The lease and the database's clock read in the same transaction.
public struct LeaseState: Hashable, Sendable {
    public var lease: Lease
    public var databaseTime: Date

    /// Whether someone holds the lease and it has not expired.
    public var isHeld: Bool { lease.holder != nil && lease.expiresAt > databaseTime }
}
