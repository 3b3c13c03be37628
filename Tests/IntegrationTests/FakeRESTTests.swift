import DiscordFake
import DiscordModels
import Foundation
import Testing

@Suite("DiscordFake REST")
struct FakeRESTTests {
    static func configuration(clock: ManualFakeClock = ManualFakeClock()) -> FakeConfiguration {
        var configuration = FakeConfiguration()
        configuration.clock = clock
        configuration.identifyConcurrencyWindow = nil
        return configuration
    }

    static func memberSeed() -> FakeSeed {
        var seed = FakeSeed()
        seed.generatedMembers = 20
        return seed
    }

    @Test("bucket headers count down, then a 429 with retry_after; the window resets with the clock")
    func bucketAndTooManyRequests() async throws {
        let clock = ManualFakeClock()
        var configuration = Self.configuration(clock: clock)
        configuration.buckets[.modifyMember] = FakeBucket(hash: "edit", limit: 2, window: .seconds(10))
        try await withFake(configuration: configuration, seed: Self.memberSeed()) { fake in
            let rest = RawREST(fake: fake)
            let target = fake.ordinaryMemberIDs[0]
            let path = "guilds/\(fake.guildID)/members/\(target)"
            let first = try await rest.send(.patch, path, body: "{\"nick\":\"One\"}")
            #expect(first.status == 200)
            #expect(first.header("X-RateLimit-Limit") == "2")
            #expect(first.header("X-RateLimit-Remaining") == "1")
            #expect(first.header("X-RateLimit-Bucket") == "edit")
            #expect(first.header("X-RateLimit-Reset-After") == "10.000")
            #expect(first.header("X-RateLimit-Scope") == "user")
            #expect(first.header("Via") == "1.1 google")
            #expect(first.json?["nick"] as? String == "One")

            clock.advance(by: .seconds(4))
            let second = try await rest.send(.patch, path, body: "{\"nick\":\"Two\"}")
            #expect(second.header("X-RateLimit-Remaining") == "0")
            #expect(second.header("X-RateLimit-Reset-After") == "6.000")

            let third = try await rest.send(.patch, path, body: "{\"nick\":\"Three\"}")
            #expect(third.status == 429)
            #expect(third.json?["retry_after"] as? Double == 6.0)
            #expect(third.json?["global"] as? Bool == false)
            #expect(third.header("Retry-After") == "6")
            #expect(fake.member(target)?.nick == "Two")

            clock.advance(by: .seconds(6))
            let fourth = try await rest.send(.patch, path, body: "{\"nick\":\"Four\"}")
            #expect(fourth.status == 200)
            #expect(fourth.header("X-RateLimit-Remaining") == "1")
        }
    }

    @Test("PUT and DELETE of a member role share one bucket; GET roles has none")
    func sharedMemberRoleBucket() async throws {
        try await withFake(configuration: Self.configuration(), seed: Self.memberSeed()) { fake in
            let rest = RawREST(fake: fake)
            let target = fake.ordinaryMemberIDs[0]
            let role = try #require(fake.role(named: "Blue"))
            let path = "guilds/\(fake.guildID)/members/\(target)/roles/\(role.id)"
            let put = try await rest.send(.put, path, body: "")
            #expect(put.status == 204)
            #expect(fake.member(target)?.roles.contains(role.id) == true)
            let delete = try await rest.send(.delete, path)
            #expect(delete.status == 204)
            #expect(fake.member(target)?.roles.contains(role.id) == false)
            #expect(put.header("X-RateLimit-Bucket") == delete.header("X-RateLimit-Bucket"))
            #expect(put.header("X-RateLimit-Remaining") == "9")
            #expect(delete.header("X-RateLimit-Remaining") == "8")
            let roles = try await rest.send(.get, "guilds/\(fake.guildID)/roles")
            #expect(roles.status == 200)
            #expect(roles.header("X-RateLimit-Bucket") == nil)
            #expect(roles.jsonArray?.count == fake.roles.count)
        }
    }

    @Test("hierarchy: roles at or above the bot, managed roles, the owner and higher members give 403 50013")
    func hierarchy() async throws {
        try await withFake(configuration: Self.configuration(), seed: Self.memberSeed()) { fake in
            let rest = RawREST(fake: fake)
            let guild = fake.guildID
            let target = fake.ordinaryMemberIDs[0]
            let high = fake.createRole(name: "Directors")
            try fake.moveRole(high.id, to: 100)
            let booster = try #require(fake.roles.first { $0.tags?.premiumSubscriber == true })

            for path in ["guilds/\(guild)/members/\(target)/roles/\(high.id)", "guilds/\(guild)/members/\(target)/roles/\(booster.id)"] {
                let answer = try await rest.send(.put, path, body: "")
                #expect(answer.status == 403)
                #expect(answer.body == "{\"message\": \"Missing Permissions\", \"code\": 50013}")
            }
            // PATCH that drops a managed role the member holds.
            try fake.editMember(target, roles: [booster.id])
            let drop = try await rest.send(.patch, "guilds/\(guild)/members/\(target)", body: "{\"roles\":[]}")
            #expect(drop.status == 403)
            #expect(drop.json?["code"] as? Int == 50013)
            // Keeping the managed role and adding an assignable one is fine.
            let blue = try #require(fake.role(named: "Blue"))
            let keep = try await rest.send(.patch, "guilds/\(guild)/members/\(target)",
                                           body: "{\"roles\":[\"\(booster.id)\",\"\(blue.id)\"]}")
            #expect(keep.status == 200)

            let owner = fake.ownerID
            let nickOwner = try await rest.send(.patch, "guilds/\(guild)/members/\(owner)", body: "{\"nick\":\"Boss\"}")
            #expect(nickOwner.status == 403)
            let kickOwner = try await rest.send(.delete, "guilds/\(guild)/members/\(owner)")
            #expect(kickOwner.status == 403)
            try fake.addRole(high.id, to: target)
            let nickHigher = try await rest.send(.patch, "guilds/\(guild)/members/\(target)", body: "{\"nick\":\"X\"}")
            #expect(nickHigher.status == 403)
            #expect(nickHigher.json?["code"] as? Int == 50013)
        }
    }

    @Test("2FA: on an elevated guild without owner 2FA, role and kick actions give 403 60003, nicknames still work")
    func twoFactor() async throws {
        try await withFake(configuration: Self.configuration(), seed: Self.memberSeed()) { fake in
            fake.setMFALevel(.elevated)
            fake.setOwnerHasTwoFactor(false)
            let rest = RawREST(fake: fake)
            let target = fake.ordinaryMemberIDs[1]
            let role = try #require(fake.role(named: "Member"))
            let put = try await rest.send(.put, "guilds/\(fake.guildID)/members/\(target)/roles/\(role.id)", body: "")
            #expect(put.status == 403)
            #expect(put.body == "{\"message\": \"Two factor is required for this operation\", \"code\": 60003}")
            let kick = try await rest.send(.delete, "guilds/\(fake.guildID)/members/\(target)")
            #expect(kick.json?["code"] as? Int == 60003)
            let nick = try await rest.send(.patch, "guilds/\(fake.guildID)/members/\(target)", body: "{\"nick\":\"Fine\"}")
            #expect(nick.status == 200)
            fake.setOwnerHasTwoFactor(true)
            let again = try await rest.send(.put, "guilds/\(fake.guildID)/members/\(target)/roles/\(role.id)", body: "")
            #expect(again.status == 204)
        }
    }

    @Test("edge and validation errors have Discord's exact shapes")
    func errors() async throws {
        try await withFake(configuration: Self.configuration(), seed: Self.memberSeed()) { fake in
            let rest = RawREST(fake: fake)
            let guild = fake.guildID
            let target = fake.ordinaryMemberIDs[0]

            let unauthorized = try await rest.send(.get, "guilds/\(guild)", authorization: "Bot wrong")
            #expect(unauthorized.status == 401)
            #expect(unauthorized.body == "{\"message\": \"401: Unauthorized\", \"code\": 0}")

            let blue = try #require(fake.role(named: "Blue"))
            let noLength = try await rawHTTP(port: fake.port, """
                PUT /api/v10/guilds/\(guild)/members/\(target)/roles/\(blue.id) HTTP/1.1\r
                Host: 127.0.0.1\r
                Authorization: Bot \(fake.botToken.revealed)\r
                User-Agent: \(rest.userAgent)\r
                \r

                """)
            #expect(noLength.hasPrefix("HTTP/1.1 411"))
            #expect(noLength.contains("<html>"))
            #expect(fake.member(target)?.roles.contains(blue.id) == false)

            let unknownMember = try await rest.send(.get, "guilds/\(guild)/members/42")
            #expect(unknownMember.body == "{\"message\": \"Unknown Member\", \"code\": 10007}")
            let unknownRole = try await rest.send(.put, "guilds/\(guild)/members/\(target)/roles/42", body: "")
            #expect(unknownRole.body == "{\"message\": \"Unknown Role\", \"code\": 10011}")

            let longNick = try await rest.send(.patch, "guilds/\(guild)/members/\(target)",
                                               body: "{\"nick\":\"\(String(repeating: "n", count: 33))\"}")
            #expect(longNick.status == 400)
            #expect(longNick.json?["code"] as? Int == 50035)
            let nickErrors = (longNick.json?["errors"] as? [String: Any])?["nick"] as? [String: Any]
            #expect(((nickErrors?["_errors"] as? [[String: Any]])?.first?["code"] as? String) == "BASE_TYPE_BAD_LENGTH")

            let badRoles = try await rest.send(.patch, "guilds/\(guild)/members/\(target)", body: "{\"roles\":[\"abc\"]}")
            let roleErrors = ((badRoles.json?["errors"] as? [String: Any])?["roles"] as? [String: Any])?["0"]
            #expect(badRoles.json?["code"] as? Int == 50035)
            #expect(roleErrors != nil)

            let wrongType = try await rest.send(.patch, "guilds/\(guild)/members/\(target)", body: "{\"nick\":\"a\"}",
                                                contentType: "text/plain")
            #expect(wrongType.json?["code"] as? Int == 50035)

            var badAgent = RawREST(fake: fake)
            badAgent.userAgent = "curl/8.0"
            let blocked = try await badAgent.send(.get, "guilds/\(guild)")
            #expect(blocked.status == 403)

            let longReason = try await rest.send(.patch, "guilds/\(guild)/members/\(target)", body: "{\"nick\":\"a\"}",
                                                 headers: ["X-Audit-Log-Reason": String(repeating: "r", count: 513)])
            #expect(longReason.status == 400)
        }
    }

    @Test("a REST role change emits GUILD_MEMBER_UPDATE; a no-op PUT emits nothing")
    func restMutationEmitsEvent() async throws {
        try await withFake(configuration: Self.configuration(), seed: Self.memberSeed()) { fake in
            let gateway = RawGateway(url: fake.gatewayURL)
            defer { gateway.shutdown() }
            gateway.identify(token: fake.botToken.revealed)
            _ = try await gateway.dispatch("GUILD_CREATE")
            let rest = RawREST(fake: fake)
            let target = fake.ordinaryMemberIDs[2]
            try fake.editMember(target, roles: [], nick: "Before")
            _ = try await gateway.dispatch("GUILD_MEMBER_UPDATE")
            let role = try #require(fake.role(named: "Capsuleer"))
            let path = "guilds/\(fake.guildID)/members/\(target)/roles/\(role.id)"
            let index = fake.requestCount
            #expect(try await rest.send(.put, path, body: "", headers: ["X-Audit-Log-Reason": "Auth%20group%20sync"]).status == 204)
            let update = try await gateway.dispatch("GUILD_MEMBER_UPDATE")
            #expect(update.d?["roles"]?.fakeArray?.compactMap(\.stringValue) == [String(role.id.rawValue)])

            let recorded = try await fake.waitForRequest(from: index) { $0.method == "PUT" }
            #expect(recorded.header("x-audit-log-reason") == "Auth%20group%20sync")
            #expect(recorded.header("authorization") == "Bot \(fake.botToken.revealed)")

            // No-op PUT: no event; the next update is the moderator's nick change.
            #expect(try await rest.send(.put, path, body: "").status == 204)
            try fake.editMember(target, nick: "After")
            let next = try await gateway.dispatch("GUILD_MEMBER_UPDATE")
            #expect(next.d?["nick"]?.stringValue == "After")

            let kick = try await rest.send(.delete, "guilds/\(fake.guildID)/members/\(target)")
            #expect(kick.status == 204)
            let removed = try await gateway.dispatch("GUILD_MEMBER_REMOVE")
            #expect(removed.d?["user"]?["id"]?.stringValue == String(target.rawValue))
        }
    }

    @Test("list members pages by id; create role lands at the bottom; gateway/bot returns the fake's URL")
    func readsAndCreates() async throws {
        try await withFake(configuration: Self.configuration(), seed: Self.memberSeed()) { fake in
            let rest = RawREST(fake: fake)
            let page = try await rest.send(.get, "guilds/\(fake.guildID)/members?limit=5")
            let ids = (page.jsonArray as? [[String: Any]])?.compactMap { ($0["user"] as? [String: Any])?["id"] as? String }
            #expect(ids == fake.members.prefix(5).map { String($0.user!.id.rawValue) })
            let after = try #require(ids?.last)
            let next = try await rest.send(.get, "guilds/\(fake.guildID)/members?limit=1000&after=\(after)")
            #expect(next.jsonArray?.count == fake.memberCount - 5)

            let created = try await rest.send(.post, "guilds/\(fake.guildID)/roles", body: "{\"name\":\"Alpha\"}")
            #expect(created.status == 200)
            #expect(created.json?["position"] as? Int == 1)
            #expect(fake.role(named: "Alpha")?.position == 1)

            let gateway = try await rest.send(.get, "gateway/bot")
            #expect(gateway.json?["url"] as? String == fake.gatewayURL)
            #expect((gateway.json?["session_start_limit"] as? [String: Any])?["max_concurrency"] as? Int == 1)
            let me = try await rest.send(.get, "users/@me")
            #expect(me.json?["id"] as? String == String(fake.botUser.id.rawValue))
            let app = try await rest.send(.get, "applications/@me")
            #expect(app.json?["flags"] as? Int == 1 << 15)

            let alpha = try #require(fake.role(named: "Alpha"))
            let renamed = try await rest.send(.patch, "guilds/\(fake.guildID)/roles/\(alpha.id)", body: "{\"name\":\"Beta\"}")
            #expect(renamed.json?["name"] as? String == "Beta")
            let botRole = try #require(fake.botRole)
            let renameOwn = try await rest.send(.patch, "guilds/\(fake.guildID)/roles/\(botRole.id)", body: "{\"name\":\"Top\"}")
            #expect(renameOwn.status == 403)
            #expect(try await rest.send(.delete, "guilds/\(fake.guildID)/roles/\(alpha.id)").status == 204)
            #expect(fake.role(alpha.id) == nil)
        }
    }

    @Test("forced and global 429s, and a Cloudflare-style ban after too many invalid requests")
    func globalAndBan() async throws {
        var configuration = Self.configuration()
        configuration.invalidRequestThreshold = 3
        try await withFake(configuration: configuration, seed: Self.memberSeed()) { fake in
            let rest = RawREST(fake: fake)
            fake.forceRateLimit(.init(kind: .global, retryAfter: .milliseconds(1500)))
            let global = try await rest.send(.get, "guilds/\(fake.guildID)")
            #expect(global.status == 429)
            #expect(global.json?["global"] as? Bool == true)
            #expect(global.header("X-RateLimit-Global") == "true")
            #expect(global.json?["retry_after"] as? Double == 1.5)

            fake.forceRateLimit(.init(kind: .shared, retryAfter: .seconds(1)))
            let shared = try await rest.send(.get, "guilds/\(fake.guildID)/members/\(fake.ownerID)")
            #expect(shared.header("X-RateLimit-Scope") == "shared")
            #expect(fake.invalidRequestCount == 1)

            for _ in 0..<3 { _ = try await rest.send(.get, "guilds/\(fake.guildID)", authorization: "Bot nope") }
            let banned = try await rest.send(.get, "guilds/\(fake.guildID)")
            #expect(banned.status == 429)
            #expect(banned.json == nil)
            #expect(banned.header("Via") == nil)
        }
    }

    @Test("REST faults: the next requests fail with 5xx, then answers are normal again")
    func restFaults() async throws {
        try await withFake(configuration: Self.configuration()) { fake in
            let rest = RawREST(fake: fake)
            fake.failNextRESTRequests(2, status: 502)
            var statuses: [Int] = []
            for _ in 0..<3 { statuses.append(try await rest.send(.get, "guilds/\(fake.guildID)").status) }
            #expect(statuses == [502, 502, 200])
        }
    }
}
