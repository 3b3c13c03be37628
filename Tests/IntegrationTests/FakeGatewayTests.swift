import DiscordFake
import DiscordModels
import Foundation
import Testing

@Suite("DiscordFake gateway")
struct FakeGatewayTests {
    static func quickConfiguration() -> FakeConfiguration {
        var configuration = FakeConfiguration()
        configuration.heartbeatInterval = 500
        configuration.identifyConcurrencyWindow = nil
        return configuration
    }

    @Test("Hello, then identify gives READY and a GUILD_CREATE with the bot only, over zlib-stream")
    func identifyReadyGuildCreate() async throws {
        var seed = FakeSeed()
        seed.generatedMembers = 300
        try await withFake(configuration: Self.quickConfiguration(), seed: seed) { fake in
            let gateway = RawGateway(url: fake.gatewayURL)
            defer { gateway.shutdown() }
            let hello = try await gateway.next()
            guard case .payload(10, _, _, let d, _) = hello else { Issue.record("expected Hello, got \(hello)"); return }
            #expect(d?["heartbeat_interval"]?.fakeInt == 500)

            gateway.identify(token: fake.botToken.revealed)
            let ready = try await gateway.dispatch("READY")
            #expect(ready.s == 1)
            let sessionID = try #require(ready.d?["session_id"]?.stringValue)
            #expect(!sessionID.isEmpty)
            let resumeURL = try #require(ready.d?["resume_gateway_url"]?.stringValue)
            #expect(resumeURL == fake.resumeGatewayURL)
            #expect(resumeURL != fake.gatewayURL)
            #expect(ready.d?["application"]?["id"]?.stringValue == String(fake.application.id.rawValue))
            let stub = try #require(ready.d?["guilds"]?.fakeArray?.first)
            #expect(stub["id"]?.stringValue == String(fake.guildID.rawValue))
            #expect(stub["unavailable"]?.fakeBool == true)

            let create = try await gateway.dispatch("GUILD_CREATE")
            #expect(create.s == 2)
            #expect(create.d?["member_count"]?.fakeInt == 302)
            #expect(create.d?["large"]?.fakeBool == true)
            #expect(create.d?["roles"]?.fakeArray?.count == fake.roles.count)
            let members = try #require(create.d?["members"]?.fakeArray)
            #expect(members.count == 1)
            #expect(members.first?["user"]?["id"]?.stringValue == String(fake.botUser.id.rawValue))
            #expect(fake.identifyCount == 1)
        }
    }

    @Test("op 1 is answered with op 11; withheld ACKs are not sent")
    func heartbeats() async throws {
        try await withFake(configuration: Self.quickConfiguration()) { fake in
            let gateway = RawGateway(url: fake.gatewayURL, compress: false)
            defer { gateway.shutdown() }
            _ = try await gateway.next()
            gateway.send(op: 1, "null")
            let ack = try await gateway.next()
            guard case .payload(11, _, _, _, _) = ack else { Issue.record("expected op 11, got \(ack)"); return }

            gateway.identify(token: fake.botToken.revealed)
            _ = try await gateway.dispatch("GUILD_CREATE")
            fake.withholdHeartbeatACKs(true)
            gateway.send(op: 1, "2")
            let owner = fake.ownerID
            gateway.send(op: 8, "{\"guild_id\":\"\(fake.guildID)\",\"user_ids\":[\"\(owner)\"],\"nonce\":\"n\"}")
            // Payloads are handled in order: an ACK would have come before the chunk.
            let next = try await gateway.next { if case .payload(let op, _, _, _, _) = $0 { return op == 11 || op == 0 }; return false }
            guard case .payload(0, "GUILD_MEMBERS_CHUNK", _, let d, _) = next else { Issue.record("got \(next)"); return }
            #expect(d?["members"]?.fakeArray?.first?["user"]?["id"]?.stringValue == String(owner.rawValue))
        }
    }

    @Test("op 8 for all members answers in chunks of 1000 with indices, count and nonce; a second one is RATE_LIMITED")
    func memberChunks() async throws {
        var seed = FakeSeed()
        seed.generatedMembers = 2_498
        try await withFake(configuration: Self.quickConfiguration(), seed: seed) { fake in
            let gateway = RawGateway(url: fake.gatewayURL)
            defer { gateway.shutdown() }
            gateway.identify(token: fake.botToken.revealed)
            _ = try await gateway.dispatch("GUILD_CREATE")
            let request = "{\"guild_id\":\"\(fake.guildID)\",\"query\":\"\",\"limit\":0,\"presences\":false,\"nonce\":\"warden-1\"}"
            gateway.send(op: 8, request)
            var seen = Set<String>()
            var indices: [Int] = []
            for _ in 0..<3 {
                let chunk = try await gateway.dispatch("GUILD_MEMBERS_CHUNK")
                indices.append(try #require(chunk.d?["chunk_index"]?.fakeInt))
                #expect(chunk.d?["chunk_count"]?.fakeInt == 3)
                #expect(chunk.d?["nonce"]?.stringValue == "warden-1")
                for member in chunk.d?["members"]?.fakeArray ?? [] {
                    if let id = member["user"]?["id"]?.stringValue { seen.insert(id) }
                }
            }
            #expect(indices == [0, 1, 2])
            #expect(seen.count == 2_500)

            gateway.send(op: 8, request)
            let limited = try await gateway.dispatch("RATE_LIMITED")
            #expect(limited.d?["opcode"]?.fakeInt == 8)
            #expect((limited.d?["retry_after"]?.fakeNumber ?? 0) > 0)
            #expect(limited.d?["meta"]?["nonce"]?.stringValue == "warden-1")
        }
    }

    @Test("resume with a valid session and seq replays missed dispatches, then RESUMED")
    func resumeReplays() async throws {
        try await withFake(configuration: Self.quickConfiguration()) { fake in
            let first = RawGateway(url: fake.gatewayURL)
            first.identify(token: fake.botToken.revealed)
            let ready = try await first.dispatch("READY")
            let sessionID = try #require(ready.d?["session_id"]?.stringValue)
            let create = try await first.dispatch("GUILD_CREATE")
            let lastSeen = try #require(create.s)
            first.close(code: 4000)
            _ = try await first.closeCode()
            first.shutdown()

            // Missed while disconnected: a moderator changes a member's roles.
            let target = fake.ownerID
            let member = try #require(fake.role(named: "Member"))
            try fake.addRole(member.id, to: target)

            let second = RawGateway(url: fake.resumeGatewayURL)
            defer { second.shutdown() }
            second.send(op: 6, "{\"token\":\"\(fake.botToken.revealed)\",\"session_id\":\"\(sessionID)\",\"seq\":\(lastSeen)}")
            let replayed = try await second.dispatch("GUILD_MEMBER_UPDATE")
            #expect(replayed.s == lastSeen + 1)
            #expect(replayed.d?["roles"]?.fakeArray?.compactMap(\.stringValue) == [String(member.id.rawValue)])
            let resumed = try await second.dispatch("RESUMED")
            #expect(resumed.s == lastSeen + 2)
            #expect(fake.resumeCount == 1)
            #expect(fake.identifyCount == 1)
        }
    }

    @Test("a client close with 1000 ends the session: resuming it gets op 9 false")
    func normalCloseKillsSession() async throws {
        try await withFake(configuration: Self.quickConfiguration()) { fake in
            let first = RawGateway(url: fake.gatewayURL)
            first.identify(token: fake.botToken.revealed)
            let sessionID = try #require(try await first.dispatch("READY").d?["session_id"]?.stringValue)
            first.close(code: 1000)
            _ = try await first.closeCode()
            first.shutdown()

            let second = RawGateway(url: fake.resumeGatewayURL)
            defer { second.shutdown() }
            _ = try await second.next()
            second.send(op: 6, "{\"token\":\"\(fake.botToken.revealed)\",\"session_id\":\"\(sessionID)\",\"seq\":1}")
            let answer = try await second.next { if case .payload(9, _, _, _, _) = $0 { return true }; return false }
            guard case .payload(9, _, _, let d, _) = answer else { return }
            #expect(d?.fakeBool == false)
        }
    }

    @Test("identify rules close with Discord's codes", arguments: [
        ("bad token", 4004), ("before identify", 4003), ("unknown op", 4001), ("bad json", 4002),
        ("too big", 4002), ("second identify", 4005), ("invalid intents", 4013), ("members intent disabled", 4014),
    ])
    func closeCodes(_ situation: String, _ expected: Int) async throws {
        try await withFake(configuration: Self.quickConfiguration()) { fake in
            let gateway = RawGateway(url: fake.gatewayURL)
            defer { gateway.shutdown() }
            _ = try await gateway.next()
            let token = fake.botToken.revealed
            switch situation {
            case "bad token": gateway.identify(token: "not-the-token")
            case "before identify": gateway.send(op: 8, "{\"guild_id\":\"\(fake.guildID)\",\"query\":\"\",\"limit\":0}")
            case "unknown op": gateway.send(op: 99, "{}")
            case "bad json": gateway.send("{\"op\":2,")
            case "too big": gateway.send(op: 1, "\"" + String(repeating: "x", count: 5000) + "\"")
            case "second identify":
                gateway.identify(token: token)
                _ = try await gateway.dispatch("READY")
                gateway.identify(token: token)
            case "invalid intents": gateway.identify(token: token, intents: 1 << 30)
            default:
                fake.setMembersIntentEnabled(false)
                gateway.identify(token: token, intents: 3)
            }
            #expect(try await gateway.closeCode() == expected, "\(situation)")
        }
    }

    @Test("more than the send limit of client payloads closes with 4008")
    func sendLimit() async throws {
        var configuration = Self.quickConfiguration()
        configuration.gatewaySendLimit = 5
        try await withFake(configuration: configuration) { fake in
            let gateway = RawGateway(url: fake.gatewayURL)
            defer { gateway.shutdown() }
            for _ in 0..<6 { gateway.send(op: 1, "null") }
            let code = try await gateway.closeCode()
            #expect(code == 4008)
        }
    }

    @Test("payloads split across several WebSocket messages and fragments still inflate")
    func splitPayloads() async throws {
        try await withFake(configuration: Self.quickConfiguration()) { fake in
            fake.splitPayloads(messages: 3, fragments: 2)
            let gateway = RawGateway(url: fake.gatewayURL)
            defer { gateway.shutdown() }
            gateway.identify(token: fake.botToken.revealed)
            let ready = try await gateway.dispatch("READY")
            #expect(ready.d?["session_id"]?.stringValue != nil)
            _ = try await gateway.dispatch("GUILD_CREATE")
        }
    }

    @Test("a moderator's role edit sends GUILD_MEMBER_UPDATE with the full role list")
    func moderatorEditEmitsUpdate() async throws {
        var seed = FakeSeed()
        seed.generatedMembers = 10
        try await withFake(configuration: Self.quickConfiguration(), seed: seed) { fake in
            let gateway = RawGateway(url: fake.gatewayURL)
            defer { gateway.shutdown() }
            gateway.identify(token: fake.botToken.revealed)
            _ = try await gateway.dispatch("GUILD_CREATE")
            let target = try #require(fake.ordinaryMemberIDs.first)
            let roles = [fake.role(named: "Blue")!.id, fake.role(named: "Recruiter")!.id]
            try fake.editMember(target, roles: roles, nick: "[WYE] Someone")
            let update = try await gateway.dispatch("GUILD_MEMBER_UPDATE")
            #expect(update.d?["user"]?["id"]?.stringValue == String(target.rawValue))
            #expect(update.d?["guild_id"]?.stringValue == String(fake.guildID.rawValue))
            #expect(update.d?["roles"]?.fakeArray?.compactMap(\.stringValue) == roles.map { String($0.rawValue) })
            #expect(update.d?["nick"]?.stringValue == "[WYE] Someone")

            // Moving the bot role down: one GUILD_ROLE_UPDATE per moved role.
            let before = fake.roles
            try fake.moveBotRoleToBottom()
            let moved = zip(before.sorted { $0.id < $1.id }, fake.roles.sorted { $0.id < $1.id })
                .filter { $0.position != $1.position }.count
            #expect(moved > 1)
            for _ in 0..<moved { _ = try await gateway.dispatch("GUILD_ROLE_UPDATE") }
        }
    }

    @Test("removing the bot sends GUILD_DELETE without unavailable; adding it back sends GUILD_CREATE")
    func botRemovedAndBack() async throws {
        try await withFake(configuration: Self.quickConfiguration()) { fake in
            let gateway = RawGateway(url: fake.gatewayURL)
            defer { gateway.shutdown() }
            gateway.identify(token: fake.botToken.revealed)
            _ = try await gateway.dispatch("GUILD_CREATE")
            fake.removeBot()
            let deleted = try await gateway.dispatch("GUILD_DELETE")
            #expect(deleted.d?["unavailable"] == nil)
            fake.addBot()
            let created = try await gateway.dispatch("GUILD_CREATE")
            #expect(created.d?["id"]?.stringValue == String(fake.guildID.rawValue))
            #expect(fake.botRole?.tags?.botID == fake.botUser.id)
        }
    }

    @Test("faults: op 7, and a dropped connection ends without a close frame")
    func faults() async throws {
        try await withFake(configuration: Self.quickConfiguration()) { fake in
            let gateway = RawGateway(url: fake.gatewayURL)
            defer { gateway.shutdown() }
            gateway.identify(token: fake.botToken.revealed)
            _ = try await gateway.dispatch("GUILD_CREATE")
            fake.sendReconnect()
            let reconnect = try await gateway.next { if case .payload(7, _, _, _, _) = $0 { return true }; return false }
            guard case .payload(7, _, _, _, _) = reconnect else { return }
            fake.dropGatewayConnections()
            #expect(try await gateway.closeCode() == nil)
            #expect(fake.sessionCount == 1)
        }
    }
}
