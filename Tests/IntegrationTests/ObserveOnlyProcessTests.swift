import AuthModels
import AuthStore
import DiscordFake
import DiscordModels
import DiscordREST
import Foundation
import Testing

/// Observe-only mode (`"enforce": false`) as the operator sees it on first start: `warden run` logs every
/// change it would make (roles, a role to create, a kick; a manual edit too), lists them in
/// `GET /api/status`, and sends Discord no write at all.
@Suite(.serialized, .timeLimit(.minutes(5))) struct ObserveOnlyProcessTests {
    static let planned = "observe-only: would change member"

    @Test func observeOnlyLogsEveryPlannedChangeAndWritesNothing() async throws {
        let configuration = FakeConfiguration()
        var seed = FakeSeed()
        seed.generatedMembers = 20
        let discord = FakeDiscord(configuration: configuration, seed: seed)
        try await discord.start()
        let directory = try WardenRunProcessTests.directory()
        let member = try #require(discord.role(named: "Member")).id
        let ids = [discord.addMember(username: "wrong").user!.id,
                   discord.addMember(username: "newgroup", roles: [member]).user!.id,
                   discord.addMember(username: "noaccess", roles: [member]).user!.id,
                   discord.addMember(username: "insync", roles: [member]).user!.id]
        let store = try AuthStore(path: directory.appendingPathComponent("warden.sqlite3").path)
        _ = try await store.upsert([
            AuthUserImport(user: WardenSoakTests.user(1, groups: ["Corp_WYE"]), discordUID: ids[0]),
            AuthUserImport(user: WardenSoakTests.user(2, groups: ["Titans"]), discordUID: ids[1]),
            AuthUserImport(user: WardenSoakTests.user(3, groups: [], access: false), discordUID: ids[2]),
            AuthUserImport(user: WardenSoakTests.user(4, groups: []), discordUID: ids[3]),
        ])
        try store.close()

        let port = try WardenSoakTests.freePort()
        let log = directory.appendingPathComponent("warden.log")
        let process = try WardenSoakTests.startWarden(discord, port: port, in: directory, log: log, extra: #", "enforce": false"#)
        defer { if process.isRunning { process.terminate() } }  // also when the test fails
        let lines: @Sendable () -> [String] = {
            ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
                .filter { $0.contains(Self.planned) }
        }
        // The three wrong members are planned after the fill; then a moderator's edit on the fourth.
        try await EnforcementE2E.waitFor(discord, timeout: .seconds(120)) { lines().count >= 3 }
        try discord.addRole(try #require(discord.role(named: "Blue")).id, to: ids[3])
        try await EnforcementE2E.waitFor(discord) { lines().contains { $0.contains(ids[3].description) } }

        let planned = lines()
        for id in ids { #expect(planned.contains { $0.contains(id.description) }, "a planned change logged for \(id)") }
        #expect(planned.contains { $0.contains("Titans") }, "the role it would create is named")
        #expect(planned.contains { $0.contains("kick") }, "the kick it would make is logged")

        let admin = try CurlHTTPTransport()
        let status = try await admin.send(HTTPRequest(
            method: .get, url: "http://127.0.0.1:\(port)/api/status",
            headers: ["Authorization": "Bearer \(WardenSoakTests.adminToken)"], timeout: .seconds(60)))
        #expect(status.status == 200)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(status.body)) as? [String: Any])
        let observed = (body["observed"] as? [[String: Any]]) ?? []
        #expect(Set(observed.compactMap { $0["discord_uid"] as? String }) == Set(ids.map(\.description)))

        let writes = discord.requests.filter { $0.method != "GET" && $0.path.contains("/guilds/") }
        #expect(writes.isEmpty, "observe-only writes nothing: \(writes)")
        #expect(discord.member(ids[2]) != nil, "nobody kicked")
        #expect(discord.role(named: "Titans") == nil, "no role created")

        process.terminate()
        #expect(await process.exitStatus() == 0)
        admin.shutdown()
        await discord.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
