import Foundation
import GRDB

// Notifications for Auth users (SPEC 1.4, `GET /api/notifications`).
extension AuthStore {
    /// Records a notification for a user (who need not be stored any more).
    @discardableResult
    public func addNotification(userID: Int64, kind: AuthNotification.Kind, message: String) async throws -> AuthNotification {
        let at = stamp()
        return try await write { db, _ in
            try Self.addNotification(userID: userID, kind: kind, message: message, at: at, in: db)
        }
    }

    /// Notifications, oldest first; only those of `userID` when it is given.
    public func notifications(userID: Int64? = nil) async throws -> [AuthNotification] {
        try await read { db in
            let rows: [Row] = if let userID {
                try Row.fetchAll(db, sql: "SELECT id, user_id, kind, message, created_at FROM notification WHERE user_id = ? ORDER BY id",
                                 arguments: [userID])
            } else {
                try Row.fetchAll(db, sql: "SELECT id, user_id, kind, message, created_at FROM notification ORDER BY id")
            }
            return rows.compactMap { row in
                // The CHECK constraint admits only known kinds.
                guard let kind = AuthNotification.Kind(rawValue: row[2]) else { return nil }
                return AuthNotification(id: row[0], userID: row[1], kind: kind, message: row[3],
                                        createdAt: Date(storeMilliseconds: row[4]))
            }
        }
    }

    static func addNotification(userID: Int64, kind: AuthNotification.Kind, message: String, at: Date,
                                in db: Database) throws -> AuthNotification {
        try db.execute(sql: "INSERT INTO notification (user_id, kind, message, created_at) VALUES (?, ?, ?, ?)",
                       arguments: [userID, kind.rawValue, message, at.storeMilliseconds])
        return AuthNotification(id: db.lastInsertedRowID, userID: userID, kind: kind, message: message, createdAt: at)
    }
}
