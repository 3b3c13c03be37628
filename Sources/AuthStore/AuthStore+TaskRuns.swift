import Foundation
import GRDB

// Task runs (SPEC 1.7, `POST/GET /api/tasks`): progress that survives a restart.
extension AuthStore {
    /// Records a new, queued run.
    public func createTaskRun(name: String, userID: Int64? = nil, total: Int = 0) async throws -> TaskRun {
        let at = stamp()
        return try await write { db, _ in
            try db.execute(sql: """
                INSERT INTO task_run (name, user_id, state, total, created_at, updated_at) VALUES (?, ?, 'queued', ?, ?, ?)
                """, arguments: [name, userID, total, at.storeMilliseconds, at.storeMilliseconds])
            return TaskRun(id: db.lastInsertedRowID, name: name, userID: userID, state: .queued,
                           progress: TaskProgress(total: total), error: nil, createdAt: at, updatedAt: at)
        }
    }

    /// Stores a run's state, progress and error; returns it with `updatedAt` set.
    /// - Throws: ``AuthStoreError/unknownTaskRun(_:)``; ``AuthStoreError/invalidRecord(userID:field:reason:)``
    ///   for a negative count.
    @discardableResult
    public func updateTaskRun(_ run: TaskRun) async throws -> TaskRun {
        let p = run.progress
        for (field, count) in [("done", p.done), ("total", p.total), ("written", p.written), ("skipped", p.skipped), ("failed", p.failed)]
        where count < 0 {
            throw AuthStoreError.invalidRecord(userID: nil, field: field, reason: "must not be negative")
        }
        var updated = run
        updated.updatedAt = stamp()
        let stored = updated
        try await write { db, _ in
            try db.execute(sql: """
                UPDATE task_run SET state = ?, done = ?, total = ?, written = ?, skipped = ?, failed = ?, error = ?, updated_at = ?
                WHERE id = ?
                """, arguments: [stored.state.rawValue, p.done, p.total, p.written, p.skipped, p.failed, stored.error,
                                 stored.updatedAt.storeMilliseconds, stored.id])
            guard db.changesCount == 1 else { throw AuthStoreError.unknownTaskRun(stored.id) }
        }
        return stored
    }

    /// A run by id, or nil.
    public func taskRun(id: Int64) async throws -> TaskRun? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.taskColumns) FROM task_run WHERE id = ?", arguments: [id]).flatMap(Self.taskRun)
        }
    }

    /// Runs in the given states, oldest first (e.g. the unfinished ones).
    public func taskRuns(in states: Set<TaskRun.State> = Set(TaskRun.State.allCases)) async throws -> [TaskRun] {
        let names = states.map(\.rawValue)
        return try await read { db in
            let marks = databaseQuestionMarks(count: names.count)
            return try Row.fetchAll(db, sql: "SELECT \(Self.taskColumns) FROM task_run WHERE state IN (\(marks)) ORDER BY id",
                                    arguments: StatementArguments(names)).compactMap(Self.taskRun)
        }
    }

    /// After a restart nothing runs the runs a previous process left queued or running: marks them
    /// failed with `error`, in one transaction. Returns how many.
    @discardableResult
    public func failUnfinishedTaskRuns(error: String) async throws -> Int {
        let at = stamp()
        return try await write { db, _ in
            try db.execute(sql: "UPDATE task_run SET state = 'failed', error = ?, updated_at = ? WHERE state IN ('queued', 'running')",
                           arguments: [error, at.storeMilliseconds])
            return db.changesCount
        }
    }

    /// Forgets finished runs last updated before `date`; returns how many.
    @discardableResult
    public func pruneTaskRuns(finishedBefore date: Date) async throws -> Int {
        try await write { db, _ in
            try db.execute(sql: "DELETE FROM task_run WHERE state IN ('done', 'failed') AND updated_at < ?",
                           arguments: [date.storeMilliseconds])
            return db.changesCount
        }
    }

    static let taskColumns = "id, name, user_id, state, done, total, written, skipped, failed, error, created_at, updated_at"

    static func taskRun(_ row: Row) -> TaskRun? {
        // The CHECK constraint admits only known states.
        guard let state = TaskRun.State(rawValue: row[3]) else { return nil }
        return TaskRun(id: row[0], name: row[1], userID: row[2], state: state,
                       progress: TaskProgress(done: row[4], total: row[5], written: row[6], skipped: row[7], failed: row[8]),
                       error: row[9], createdAt: Date(storeMilliseconds: row[10]), updatedAt: Date(storeMilliseconds: row[11]))
    }
}
