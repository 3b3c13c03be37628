import AuthStore
import DiscordFake
import DiscordModels
import Foundation
import Testing
import WardenService

/// A restart in the middle of a bulk task (issue 5, item 7): the first daemon is stopped part-way
/// through `discord.update_all_groups`, a second daemon opens the same SQLite file, resumes the task and
/// ends with every member correct, each written once, and the run recorded as done.
@Suite(.serialized, .timeLimit(.minutes(5))) struct TaskRestartE2ETests {
    typealias E2E = EnforcementE2E

    @Test func aRestartInTheMiddleOfABulkTaskResumesAndLosesNothing() async throws {
        var ids: [Snowflake] = []
        // Member-role and member-edit buckets of 10 per 250 ms: 120 writes take a few seconds, so the
        // daemon can be stopped with most of them still to do.
        let e2e = try await E2E.start(waitForIdle: false, fake: { configuration, _ in
            configuration.buckets = FakeConfiguration.observedBuckets(timeScale: 0.025)
        }) { discord in
            let member = discord.role(named: "Member")!.id
            // Half need one role (PUT lane), half need two (PATCH lane).
            ids = (0..<60).map { discord.addMember(username: "put\($0)", roles: [member]).user!.id }
                + (0..<60).map { discord.addMember(username: "patch\($0)").user!.id }
            return ids.enumerated().map { (E2E.user(1000 + Int64($0.offset), groups: ["Corp_WYE"]), $0.element) }
        }
        let discord = e2e.discord
        let (member, corp) = (try e2e.roleID("Member"), try e2e.roleID("Corp_WYE"))
        let members = ids
        let correct: @Sendable (Snowflake) -> Bool = { Set(discord.member($0)?.roles ?? []) == [member, corp] }

        // The operator runs the bulk task; the daemon is stopped after some 30 of its writes.
        let runID = try await e2e.parts.tasks.enqueue("discord.update_all_groups", userID: nil)
        try await e2e.waitUntil { members.filter(correct).count >= 30 }
        #expect(try await e2e.parts.store.taskRun(id: runID)?.state == .running)
        await e2e.daemon.shutdown()
        try await e2e.run.value
        let doneBefore = members.filter(correct).count
        try #require(doneBefore < members.count, "the first daemon was stopped part-way (\(doneBefore) done)")

        // A new daemon on the same store resumes the task once its member cache is complete.
        let (daemon, run, parts) = try await E2E.startDaemon(discord, storePath: e2e.storePath, extra: "")
        try await e2e.waitUntil(timeout: .seconds(120)) { members.allSatisfy(correct) }
        let store = parts.store
        try await E2E.waitFor(discord) { (try? await store.taskRun(id: runID))?.state == .done }
        let finished = try #require(try await store.taskRun(id: runID))
        #expect(finished.progress.done == finished.progress.total)
        #expect(finished.progress.total == members.count + 1, "every linked member (and the sentinel) covered")
        #expect(finished.progress.failed == 0)

        // Nothing lost, nothing done twice: one accepted write per member across both daemons.
        let accepted = e2e.acceptedWrites()
        for id in members { #expect(accepted.filter { $0.path.contains("/members/\(id)") }.count == 1, "one write for \(id)") }
        #expect(try await store.taskRuns(in: [.queued, .running]).isEmpty)

        await daemon.shutdown()
        try await run.value
        await discord.stop()
        try? FileManager.default.removeItem(at: e2e.directory)
    }
}
