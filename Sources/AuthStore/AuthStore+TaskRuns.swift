import Foundation

// Task runs (SPEC 1.7, `POST/GET /api/tasks`): progress that survives a restart.
//
// Task progress is the leader's to write (SPEC 7): the writes take the writer's `epoch` and are refused
// with ``AuthStoreError/staleEpoch(epoch:current:)`` once the lease moved on; nil: not checked.
extension AuthStore {
    /// Records a new, queued run.
    public func createTaskRun(name: String, userID: Int64? = nil, total: Int = 0, epoch: Int64? = nil) async throws -> TaskRun {
        let at = stamp()
        return try await write { tx, _ in
            try Self.checkEpoch(epoch, in: tx)
            let id = try tx.integer("""
                INSERT INTO task_run (name, user_id, state, total, created_at, updated_at) VALUES (?, ?, 'queued', ?, ?, ?) RETURNING id
                """, name, userID, total, at.storeMilliseconds, at.storeMilliseconds) ?? 0
            return TaskRun(id: id, name: name, userID: userID, state: .queued,
                           progress: TaskProgress(total: total), error: nil, createdAt: at, updatedAt: at)
        }
    }

    /// Stores a run's state, progress and error; returns it with `updatedAt` set.
    /// - Throws: ``AuthStoreError/unknownTaskRun(_:)``; ``AuthStoreError/invalidRecord(userID:field:reason:)``
    ///   for a negative count; ``AuthStoreError/staleEpoch(epoch:current:)``.
    @discardableResult
    public func updateTaskRun(_ run: TaskRun, epoch: Int64? = nil) async throws -> TaskRun {
        let p = run.progress
        for (field, count) in [("done", p.done), ("total", p.total), ("written", p.written), ("skipped", p.skipped), ("failed", p.failed)]
        where count < 0 {
            throw AuthStoreError.invalidRecord(userID: nil, field: field, reason: "must not be negative")
        }
        var updated = run
        updated.updatedAt = stamp()
        let stored = updated
        try await write { tx, _ in
            try Self.checkEpoch(epoch, in: tx)
            let changed = try tx.execute("""
                UPDATE task_run SET state = ?, done = ?, total = ?, written = ?, skipped = ?, failed = ?, error = ?, updated_at = ?
                WHERE id = ?
                """, stored.state.rawValue, p.done, p.total, p.written, p.skipped, p.failed, stored.error,
                stored.updatedAt.storeMilliseconds, stored.id)
            guard changed == 1 else { throw AuthStoreError.unknownTaskRun(stored.id) }
        }
        return stored
    }

    /// A run by id, or nil.
    public func taskRun(id: Int64) async throws -> TaskRun? {
        try await read { tx in
            try tx.firstRow("SELECT \(Self.taskColumns) FROM task_run WHERE id = ?", id, transform: Self.taskRun) ?? nil
        }
    }

    /// Runs in the given states, oldest first (e.g. the unfinished ones).
    public func taskRuns(in states: Set<TaskRun.State> = Set(TaskRun.State.allCases)) async throws -> [TaskRun] {
        let names = states.map { StoreValue.text($0.rawValue) }
        guard !names.isEmpty else { return [] }
        return try await read { tx in
            try tx.rows("SELECT \(Self.taskColumns) FROM task_run WHERE state IN (\(placeholders(count: names.count))) ORDER BY id",
                        arguments: names, Self.taskRun).compactMap { $0 }
        }
    }

    /// After a restart nothing runs the runs a previous process left queued or running: marks them
    /// failed with `error`, in one transaction. Returns how many.
    @discardableResult
    public func failUnfinishedTaskRuns(error: String, epoch: Int64? = nil) async throws -> Int {
        let at = stamp()
        return try await write { tx, _ in
            try Self.checkEpoch(epoch, in: tx)
            return try tx.execute("UPDATE task_run SET state = 'failed', error = ?, updated_at = ? WHERE state IN ('queued', 'running')",
                                  error, at.storeMilliseconds)
        }
    }

    /// Forgets finished runs last updated before `date`; returns how many.
    @discardableResult
    public func pruneTaskRuns(finishedBefore date: Date, epoch: Int64? = nil) async throws -> Int {
        try await write { tx, _ in
            try Self.checkEpoch(epoch, in: tx)
            return try tx.execute("DELETE FROM task_run WHERE state IN ('done', 'failed') AND updated_at < ?", date.storeMilliseconds)
        }
    }

    static let taskColumns = "id, name, user_id, state, done, total, written, skipped, failed, error, created_at, updated_at"

    static func taskRun(_ row: any StoreRow) throws -> TaskRun? {
        // The CHECK constraint admits only known states.
        guard let state = TaskRun.State(rawValue: try row.string(3)) else { return nil }
        return TaskRun(id: try row.int64(0), name: try row.string(1), userID: try row.int64OrNil(2), state: state,
                       progress: TaskProgress(done: try row.int(4), total: try row.int(5), written: try row.int(6),
                                              skipped: try row.int(7), failed: try row.int(8)),
                       error: try row.stringOrNil(9), createdAt: try row.date(10), updatedAt: try row.date(11))
    }
}
