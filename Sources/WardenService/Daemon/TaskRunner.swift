import AuthStore
import DiscordModels
import Foundation
import Logging

/// The tasks of SPEC 1.7, by Alliance Auth's names.
public enum WardenTask: String, CaseIterable, Sendable {
    case updateGroups = "discord.update_groups"
    case updateNickname = "discord.update_nickname"
    case updateUsername = "discord.update_username"
    case deleteUser = "discord.delete_user"
    case updateAllGroups = "discord.update_all_groups"
    case updateAllNicknames = "discord.update_all_nicknames"
    case updateAllUsernames = "discord.update_all_usernames"
    case updateAll = "discord.update_all"
    case updateServername = "discord.update_servername"

    /// Per-user tasks need a user id; bulk tasks take none.
    public var needsUser: Bool {
        switch self {
        case .updateGroups, .updateNickname, .updateUsername, .deleteUser: true
        default: false
        }
    }
}

/// Why a task could not be queued.
public enum TaskRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownTask(String)
    case userRequired
    case userNotAllowed
    case unknownUser(Int64)

    public var description: String {
        switch self {
        case .unknownTask(let name): "unknown task \"\(name.prefix(64))\""
        case .userRequired: "user_id is required for this task"
        case .userNotAllowed: "user_id is not allowed for a bulk task"
        case .unknownUser(let id): "unknown user \(id)"
        }
    }
}

/// Runs tasks on the daemon with progress in the store: with the live cache a bulk task audits every
/// member at no REST cost and writes only to the members that are wrong; it ends when those writes did.
public actor TaskRunner<C: Clock> where C.Duration == Duration {
    let enforcer: Enforcer<C>
    let store: AuthStore
    let logger: Logger
    private var progress: [Int64: TaskRun] = [:]
    private var finishWaiters: [Int64: [CheckedContinuation<TaskRun?, Never>]] = [:]
    /// Tasks queued while the member cache was being filled: an audit of half a guild would report a task
    /// done that never looked at most members.
    private var waitingForCache: [(task: WardenTask, run: TaskRun)] = []

    public init(enforcer: Enforcer<C>, store: AuthStore, logger: Logger = Logger(label: "warden.tasks")) {
        self.enforcer = enforcer
        self.store = store
        self.logger = logger
    }

    /// Queues a task by its contract name and starts it. Returns the run's id.
    public func enqueue(_ name: String, userID: Int64?) async throws -> Int64 {
        guard let task = WardenTask(rawValue: name) else { throw TaskRequestError.unknownTask(name) }
        if task.needsUser, userID == nil { throw TaskRequestError.userRequired }
        if !task.needsUser, userID != nil { throw TaskRequestError.userNotAllowed }
        if let userID, try await store.user(id: userID) == nil { throw TaskRequestError.unknownUser(userID) }
        let run = try await store.createTaskRun(name: task.rawValue, userID: userID)
        progress[run.id] = run
        waitingForCache.append((task, run))
        if await enforcer.withGuild({ $0.isMemberCacheComplete }) {
            memberCacheCompleted()
        } else {
            logger.info("task queued until the member cache is complete", metadata: ["task": "\(task.rawValue)", "id": "\(run.id)"])
        }
        return run.id
    }

    /// The member cache is complete (after each fill): tasks queued meanwhile start now.
    public func memberCacheCompleted() {
        let ready = waitingForCache
        waitingForCache = []
        for (task, run) in ready { Task { await self.execute(task, run: run) } }
    }

    /// Runs again the tasks a previous process left queued or running (a restart in the middle of a bulk
    /// task): tasks are audits from the cache and idempotent writes, so running them again loses nothing.
    /// Call once the member cache is complete. Returns how many were resumed.
    @discardableResult
    public func resumeUnfinished() async -> Int {
        guard let unfinished = try? await store.taskRuns(in: [.queued, .running]) else { return 0 }
        var resumed = 0
        for var run in unfinished where progress[run.id] == nil {
            guard let task = WardenTask(rawValue: run.name) else { continue }
            run.progress = TaskProgress()
            progress[run.id] = run
            resumed += 1
            logger.notice("resuming a task interrupted by a restart", metadata: ["task": "\(task.rawValue)", "id": "\(run.id)"])
            Task { await self.execute(task, run: run) }
        }
        return resumed
    }

    private func execute(_ task: WardenTask, run: TaskRun) async {
        var run = run
        run.state = .running
        progress[run.id] = run
        _ = try? await store.updateTaskRun(run)
        logger.info("task started", metadata: ["task": "\(task.rawValue)", "id": "\(run.id)"])

        switch task {
        case .updateGroups, .updateNickname:
            let userID = run.userID!
            let linked = await enforcer.linkedUsersInGuild().contains(userID)
            update(run.id) { $0.progress.total = linked ? 1 : 0 }
            guard linked else { break }
            let (stream, continuation) = AsyncStream<SettleOutcome>.makeStream()
            await enforcer.enforce(userID: userID, cause: .task) { _, outcome in
                continuation.yield(outcome)
                continuation.finish()
            }
            for await outcome in stream { count(run.id, outcome) }
        case .updateUsername:
            let refreshed = await enforcer.refreshStoredProfiles(userIDs: [run.userID!])
            update(run.id) { $0.progress = TaskProgress(done: refreshed, total: refreshed, written: refreshed) }
        case .deleteUser:
            do {
                let removed = try await enforcer.deactivate(userID: run.userID!, reason: "Auth: task discord.delete_user", notify: false)
                update(run.id) { $0.progress = TaskProgress(done: removed ? 1 : 0, total: removed ? 1 : 0, written: removed ? 1 : 0) }
            } catch {
                update(run.id) { $0.progress = TaskProgress(done: 1, total: 1, failed: 1); $0.state = .failed; $0.error = "\(error)" }
            }
        case .updateAllGroups, .updateAllNicknames, .updateAll:
            if task == .updateAll { _ = await enforcer.refreshStoredProfiles(userIDs: nil) }
            await runAudit(run.id)
        case .updateAllUsernames:
            let total = await enforcer.linkedUsersInGuild().count
            let refreshed = await enforcer.refreshStoredProfiles(userIDs: nil)
            update(run.id) { $0.progress = TaskProgress(done: total, total: total, written: refreshed) }
        case .updateServername:
            // The guild name is live in the cache (GUILD_UPDATE); nothing to fetch.
            update(run.id) { $0.progress = TaskProgress(done: 1, total: 1) }
        }

        update(run.id) { if $0.state == .running { $0.state = .done } }
        if let finished = progress[run.id] {
            _ = try? await store.updateTaskRun(finished)
            for waiter in finishWaiters.removeValue(forKey: run.id) ?? [] { waiter.resume(returning: finished) }
            logger.info("task done", metadata: ["task": "\(task.rawValue)", "id": "\(run.id)",
                                                 "written": "\(finished.progress.written)", "failed": "\(finished.progress.failed)"])
        }
    }

    private func runAudit(_ id: Int64) async {
        let (stream, continuation) = AsyncStream<SettleOutcome>.makeStream()
        let report = await enforcer.audit(cause: .task) { _, outcome in continuation.yield(outcome) }
        update(id) { $0.progress.total = report.checked; $0.progress.done = report.checked - report.wrong }
        if report.wrong == 0 { continuation.finish() }
        var remaining = report.wrong
        for await outcome in stream {
            count(id, outcome)
            remaining -= 1
            if remaining % 50 == 0, let run = progress[id] { _ = try? await store.updateTaskRun(run) }
            if remaining == 0 { continuation.finish() }
        }
    }

    private func count(_ id: Int64, _ outcome: SettleOutcome) {
        update(id) { run in
            run.progress.done += 1
            switch outcome {
            case .written: run.progress.written += 1
            case .skipped, .observed: run.progress.skipped += 1
            case .failed: run.progress.failed += 1
            case .inSync, .absent: break
            }
        }
    }

    private func update(_ id: Int64, _ change: (inout TaskRun) -> Void) {
        guard var run = progress[id] else { return }
        change(&run)
        progress[id] = run
    }

    /// Waits until the run has finished and returns it (nil for an unknown id).
    public func finished(id: Int64) async -> TaskRun? {
        if let run = await run(id: id), run.state.isFinished { return run }
        guard progress[id] != nil else { return nil }
        return await withCheckedContinuation { finishWaiters[id, default: []].append($0) }
    }

    /// The run as it stands (live progress for a running task, the store's record otherwise).
    public func run(id: Int64) async -> TaskRun? {
        if let live = progress[id] { return live }
        return try? await store.taskRun(id: id)
    }
}
