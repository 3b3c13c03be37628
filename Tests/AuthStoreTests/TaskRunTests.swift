@testable import AuthStore
import Testing

@Suite("Task runs")
struct TaskRunTests {
    @Test("a run's state and progress round-trip", arguments: backends)
    func progressRoundTrip(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        let created = try await store.createTaskRun(name: "discord.update_all_groups")
        #expect(created.state == .queued)
        #expect(created.progress == TaskProgress())
        #expect(created.userID == nil)
        #expect(try await store.taskRun(id: created.id) == created)

        var run = created
        run.state = .running
        run.progress = TaskProgress(done: 40, total: 100, written: 3, skipped: 1, failed: 2)
        clock.advance(seconds: 5)
        let updated = try await store.updateTaskRun(run)
        #expect(updated.updatedAt == clock.now.storePrecision)
        #expect(try await store.taskRun(id: created.id) == updated)

        run = updated
        run.state = .failed
        run.error = "gateway down"
        let failed = try await store.updateTaskRun(run)
        let stored = try #require(try await store.taskRun(id: created.id))
        #expect(stored == failed)
        #expect(stored.createdAt == created.createdAt)
        #expect(stored.state.isFinished)
    }

    @Test("per-user runs keep their user; ids grow; unknown ids are reported", arguments: backends)
    func perUser(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        let a = try await store.createTaskRun(name: "discord.update_groups", userID: 42, total: 1)
        let b = try await store.createTaskRun(name: "discord.update_nickname", userID: 7, total: 1)
        #expect(b.id > a.id)
        #expect(try await store.taskRun(id: a.id)?.userID == 42)
        #expect(try await store.taskRun(id: a.id)?.progress.total == 1)
        #expect(try await store.taskRun(id: 999) == nil)
        let ghost = TaskRun(id: 999, name: "x", userID: nil, state: .done, progress: TaskProgress(), error: nil,
                            createdAt: .now, updatedAt: .now)
        await #expect(throws: AuthStoreError.unknownTaskRun(999)) { try await store.updateTaskRun(ghost) }

        var negative = a
        negative.progress.done = -1
        await #expect(throws: AuthStoreError.self) { try await store.updateTaskRun(negative) }
        #expect(try await store.taskRun(id: a.id)?.progress.done == 0)
    }

    @Test("unfinished runs of a previous process are marked failed; finished ones can be pruned", arguments: backends)
    func restartAndPrune(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        let queued = try await store.createTaskRun(name: "discord.update_all")
        var running = try await store.createTaskRun(name: "discord.update_all_nicknames")
        running.state = .running
        try await store.updateTaskRun(running)
        var done = try await store.createTaskRun(name: "discord.update_servername")
        done.state = .done
        try await store.updateTaskRun(done)

        #expect(try await store.taskRuns(in: [.queued, .running]).map(\.id) == [queued.id, running.id])
        #expect(try await store.failUnfinishedTaskRuns(error: "Warden restarted") == 2)
        #expect(try await store.taskRun(id: queued.id)?.state == .failed)
        #expect(try await store.taskRun(id: running.id)?.error == "Warden restarted")
        #expect(try await store.taskRun(id: done.id)?.state == .done)

        clock.advance(seconds: 3600)
        let fresh = try await store.createTaskRun(name: "discord.update_all")
        #expect(try await store.pruneTaskRuns(finishedBefore: clock.now.addingTimeInterval(-60)) == 3)
        #expect(try await store.taskRuns().map(\.id) == [fresh.id])
        let next = try await store.createTaskRun(name: "discord.update_all")
        #expect(next.id > fresh.id)
    }
}
