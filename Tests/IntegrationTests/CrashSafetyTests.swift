import AuthModels
import AuthStore
import DiscordFake
import DiscordModels
import Foundation
import Testing

/// `warden run` killed with SIGKILL at seeded random points while a bulk task and a linking flow are under
/// way, restarted on the same SQLite file each time: the store stays sound, unfinished tasks finish, no
/// role is created twice, and the guild ends as Auth says with nothing lost.
///
/// `WARDEN_CHAOS_SEED` (printed) picks the kill points; `WARDEN_CRASH_ITERATIONS` (default 4) the kills.
@Suite(.serialized, .timeLimit(.minutes(10))) struct CrashSafetyTests {
    static let adminToken = "admin-token-for-tests-0123456789"

    static func writeConfiguration(_ discord: FakeDiscord, port: Int, directory: URL) throws -> String {
        let path = directory.appendingPathComponent("config.json").path
        let json = """
            {"discord": {"app_id": "\(discord.application.id)", "app_secret": "\(discord.application.secret.revealed)",
              "bot_token": "\(discord.botToken.revealed)", "guild_id": "\(discord.guildID)",
              "callback_url": "http://127.0.0.1:\(port)/discord/callback/", "api_base_url": "\(discord.apiBaseURL)",
              "gateway_url": "\(discord.gatewayURL)", "oauth_authorize_url": "\(discord.authorizeURL)",
              "sync_names": true, "tasks_retry_pause": 1},
             "store": {"path": "\(directory.appendingPathComponent("warden.sqlite3").path)"},
             "http": {"listen": "127.0.0.1:\(port)", "public_url": "http://127.0.0.1:\(port)", "admin_token": "\(adminToken)"},
             "log": {"format": "json"}}
            """
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    struct LinkFailed: Error, CustomStringConvertible {
        var step: String
        var description: String { "linking failed at \(step)" }
    }

    /// The whole OAuth linking flow as a browser would follow it; returns the callback's status.
    static func link(userID: Int64, port: Int, discord: FakeDiscord) async throws -> Int {
        let link = try await loopbackHTTP(port: port, .post, "/api/users/\(userID)/discord/activation-link", bearer: adminToken)
        guard let url = link.json?["url"] as? String, let activation = URLComponents(string: url) else { throw LinkFailed(step: "activation link \(link.status)") }
        let activate = try await loopbackHTTP(port: port, .get, activation.path + "?" + (activation.percentEncodedQuery ?? ""))
        guard activate.status == 302, let authorize = activate.location, let back = discord.consent(toAuthorizeURL: authorize),
              let callback = URLComponents(string: back) else { throw LinkFailed(step: "activate \(activate.status)") }
        return try await loopbackHTTP(port: port, .get, callback.path + "?" + (callback.percentEncodedQuery ?? ""),
                                      cookie: activate.cookie).status
    }

    /// Starts a process and waits until its admin API listens.
    static func launch(_ configPath: String) async throws -> WardenProcess {
        let process = try WardenProcess(configPath: configPath)
        try await process.waitForLine(timeout: .seconds(60), "the HTTP server listening") { $0.contains("listening") }
        return process
    }

    @Test func sigkillDuringABulkTaskAndLinkingLosesNothing() async throws {
        let seed = ChaosEnvironment.seed
        let iterations = Int(ChaosEnvironment.integer("WARDEN_CRASH_ITERATIONS") ?? 4)
        print("crash safety: seed \(seed) (WARDEN_CHAOS_SEED), \(iterations) SIGKILLs (WARDEN_CRASH_ITERATIONS)")
        var rng = SeededGenerator(seed: seed)

        var fakeConfiguration = FakeConfiguration()
        fakeConfiguration.heartbeatInterval = 1000
        fakeConfiguration.identifyConcurrencyWindow = nil
        fakeConfiguration.memberRequestCooldown = .milliseconds(500)  // each process asks once; restarts are quick
        fakeConfiguration.buckets = FakeConfiguration.observedBuckets(timeScale: 0.3)
        var fakeSeed = FakeSeed()
        fakeSeed.generatedMembers = 250
        fakeSeed.randomSeed = seed
        let discord = FakeDiscord(configuration: fakeConfiguration, seed: fakeSeed)
        try await discord.start()

        // Auth: 120 linked members, nearly all wrong at first (groups drawn at random, some need a new role),
        // and user 999, not linked yet, whose Discord account is not in the guild: linking adds it.
        let linked = Array(discord.ordinaryMemberIDs.prefix(120))
        var users: [Snowflake: AuthUser] = [:]
        for (index, uid) in linked.enumerated() {
            let id = Int64(index + 1)
            users[uid] = ChaosTests.authUser(id, groups: ChaosTests.randomGroups(&rng), character: "Pilot \(id)")
        }
        let newcomer = discord.registerUser(username: "newcomer")
        discord.setConsentUser(newcomer.id)
        let newcomerUser = ChaosTests.authUser(999, groups: ["Blue", "Squad Delta"], character: "Newcomer")

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let storePath = directory.appendingPathComponent("warden.sqlite3").path
        let seedStore = try AuthStore(path: storePath)
        _ = try await seedStore.upsert(users.map { AuthUserImport(user: $0.value, discordUID: $0.key) } + [AuthUserImport(user: newcomerUser)])
        try seedStore.close()
        let port = try freeLoopbackPort()
        let configPath = try Self.writeConfiguration(discord, port: port, directory: directory)

        var taskIDs: [Int64] = []
        var killPoints: [String] = []
        for iteration in 0..<iterations {
            let process = try await Self.launch(configPath)
            let mark = discord.requestCount
            let task = try await loopbackHTTP(port: port, .post, "/api/tasks/discord.update_all_groups", bearer: Self.adminToken, body: "{}")
            if let id = task.json?["id"] as? Int { taskIDs.append(Int64(id)) }
            #expect(task.status == 202, "the bulk task was queued (iteration \(iteration))")
            let linking = iteration % 2 == 0 ? Task { try? await Self.link(userID: 999, port: port, discord: discord) } : nil

            // The kill point: after a random number of further requests reached Discord (or 20 s).
            let after = Int.random(in: 1...40, using: &rng)
            _ = try? await discord.waitForRequest(from: mark + after - 1, timeout: .seconds(20)) { _ in true }
            await process.kill()
            _ = await linking?.value
            let writes = discord.memberWrites(from: mark).values.reduce(0, +)
            killPoints.append("once ≥ \(after) requests reached Discord (\(writes) member writes by then)\(linking == nil ? "" : ", linking under way")")

            let store = try AuthStore(path: storePath)
            let health = try await store.health()
            #expect(health.problems.isEmpty, "integrity_check after SIGKILL \(iteration): \(health.problems)")
            try store.close()
        }

        // The last start runs to the end: everything converges, the interrupted tasks finish.
        let restart = ContinuousClock.now
        let process = try await Self.launch(configPath)
        let linkStatus = try await Self.link(userID: 999, port: port, discord: discord)
        #expect(linkStatus == 200 || linkStatus == 409, "the linking flow completes after the crashes (\(linkStatus))")
        var expected = users
        expected[newcomer.id] = newcomerUser
        let view = AuthView(users: expected)
        do {
            try await DaemonIntegrationTests.waitUntil(discord, timeout: .seconds(120)) { view.problems(in: discord, limit: 1).isEmpty }
        } catch {
            Issue.record("the guild did not converge after the crashes: \(view.problems(in: discord))")
        }
        let convergence = restart.duration(to: .now)
        for id in taskIDs {
            let run = try await loopbackHTTP(port: port, .get, "/api/tasks/\(id)", bearer: Self.adminToken)
            if run.json?["state"] as? String == "done" { continue }
            try await process.waitForLine(timeout: .seconds(60), "task \(id) done") { $0.contains("task done") && $0.contains("\(id)") }
        }
        let resumedTasks = process.log.filter { $0.contains("resuming a task interrupted by a restart") }.count
        #expect(await process.terminate() == 0)

        let store = try AuthStore(path: storePath)
        let health = try await store.health()
        #expect(health.problems.isEmpty, "integrity_check at the end: \(health.problems)")
        let unfinished = try await store.taskRuns(in: [.queued, .running])
        #expect(unfinished.isEmpty, "tasks left unfinished: \(unfinished.map(\.id))")
        #expect(try await store.discordLink(userID: 999)?.uid == newcomer.id, "the newcomer's link survived")
        for run in try await store.taskRuns() {
            print("task \(run.id): \(run.state) done \(run.progress.done)/\(run.progress.total) written \(run.progress.written) failed \(run.progress.failed)")
            #expect(run.state == .done && run.progress.total >= linked.count,
                    "task \(run.id) covered every linked member: \(run.progress.done)/\(run.progress.total)")
        }
        try store.close()

        let creations = discord.roleCreationsByName()
        #expect(creations.values.allSatisfy { $0 == 1 }, "roles created more than once across the crashes: \(creations.filter { $0.value > 1 })")
        print(chaosTable("crash safety", [("seed", "\(seed)")] + killPoints.enumerated().map { ("SIGKILL \($0.offset + 1)", $0.element) } + [
            ("bulk tasks queued", "\(taskIDs.count)"),
            ("tasks resumed by the last start", "\(resumedTasks)"),
            ("roles created", "\(creations.values.reduce(0, +)) (\(creations.count) names, each once)"),
            ("time to converge after the last start", "\(convergence)"),
            ("members wrong at the end (writes lost)", "\(view.problems(in: discord, limit: 1000).count)"),
        ]))
        await discord.stop()
    }
}
