import Foundation

/// One run of a task (SPEC 1.7, `GET /api/tasks/{id}`), kept so progress survives a restart.
public struct TaskRun: Hashable, Sendable, Identifiable {
    public enum State: String, Codable, Hashable, Sendable, CaseIterable {
        case queued, running, done, failed

        /// Whether the run has ended.
        public var isFinished: Bool { self == .done || self == .failed }
    }

    /// Store-assigned; never reused, even after a restart.
    public let id: Int64
    /// The task's contract name, e.g. `discord.update_all_groups`.
    public let name: String
    /// The Auth user of a per-user task; nil for bulk tasks.
    public let userID: Int64?
    public var state: State
    public var progress: TaskProgress
    /// Why the run failed, when it did.
    public var error: String?
    public let createdAt: Date
    public var updatedAt: Date

    public init(id: Int64, name: String, userID: Int64?, state: State, progress: TaskProgress,
                error: String?, createdAt: Date, updatedAt: Date) {
        self.id = id; self.name = name; self.userID = userID; self.state = state; self.progress = progress
        self.error = error; self.createdAt = createdAt; self.updatedAt = updatedAt
    }
}

/// Counts a bulk task reports: members checked of the total, and what became of them.
public struct TaskProgress: Hashable, Sendable, Codable {
    public var done: Int
    /// The linked users the task covers.
    public var total: Int
    public var written: Int
    public var skipped: Int
    public var failed: Int

    public init(done: Int = 0, total: Int = 0, written: Int = 0, skipped: Int = 0, failed: Int = 0) {
        self.done = done; self.total = total; self.written = written; self.skipped = skipped; self.failed = failed
    }
}
