import Foundation

// Notifications for Auth users (SPEC 1.4, `GET /api/notifications`).
extension AuthStore {
    /// Records a notification for a user (who need not be stored any more).
    @discardableResult
    public func addNotification(userID: Int64, kind: AuthNotification.Kind, message: String) async throws -> AuthNotification {
        let at = stamp()
        return try await write { tx, _ in
            try Self.addNotification(userID: userID, kind: kind, message: message, at: at, in: tx)
        }
    }

    /// Notifications, oldest first; only those of `userID` when it is given.
    public func notifications(userID: Int64? = nil) async throws -> [AuthNotification] {
        try await read { tx in
            let columns = "SELECT id, user_id, kind, message, created_at FROM notification"
            let rows: [AuthNotification?] = if let userID {
                try tx.rows("\(columns) WHERE user_id = ? ORDER BY id", userID, transform: Self.notification)
            } else {
                try tx.rows("\(columns) ORDER BY id", transform: Self.notification)
            }
            return rows.compactMap { $0 }
        }
    }

    static func notification(_ row: any StoreRow) throws -> AuthNotification? {
        // The CHECK constraint admits only known kinds.
        guard let kind = AuthNotification.Kind(rawValue: try row.string(2)) else { return nil }
        return AuthNotification(id: try row.int64(0), userID: try row.int64(1), kind: kind, message: try row.string(3),
                                createdAt: try row.date(4))
    }

    static func addNotification(userID: Int64, kind: AuthNotification.Kind, message: String, at: Date,
                                in tx: any StoreTransaction) throws -> AuthNotification {
        let id = try tx.integer("INSERT INTO notification (user_id, kind, message, created_at) VALUES (?, ?, ?, ?) RETURNING id",
                                userID, kind.rawValue, message, at.storeMilliseconds) ?? 0
        return AuthNotification(id: id, userID: userID, kind: kind, message: message, createdAt: at)
    }
}
