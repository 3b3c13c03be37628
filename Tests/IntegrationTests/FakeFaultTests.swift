import DiscordFake
import DiscordModels
import Foundation
import Testing

@Suite("DiscordFake faults and scripting")
struct FakeFaultTests {
    static func configuration() -> FakeConfiguration {
        var configuration = FakeConfiguration()
        configuration.identifyConcurrencyWindow = nil
        return configuration
    }

    static func identified(_ fake: FakeDiscord) async throws -> (RawGateway, sessionID: String, seq: Int) {
        let gateway = RawGateway(url: fake.gatewayURL)
        gateway.identify(token: fake.botToken.revealed)
        let ready = try await gateway.dispatch("READY")
        let create = try await gateway.dispatch("GUILD_CREATE")
        return (gateway, ready.d?["session_id"]?.stringValue ?? "", create.s ?? 0)
    }

    @Test("held member chunks let a live event arrive between two chunks")
    func liveEventBetweenChunks() async throws {
        var seed = FakeSeed()
        seed.generatedMembers = 1_500
        try await withFake(configuration: Self.configuration(), seed: seed) { fake in
            let (gateway, _, _) = try await Self.identified(fake)
            defer { gateway.shutdown() }
            fake.holdMemberChunks(from: 1)
            gateway.send(op: 8, "{\"guild_id\":\"\(fake.guildID)\",\"query\":\"\",\"limit\":0,\"nonce\":\"a\"}")
            let first = try await gateway.dispatch("GUILD_MEMBERS_CHUNK")
            #expect(first.d?["chunk_index"]?.fakeInt == 0)

            let late = try #require(fake.ordinaryMemberIDs.last)
            try fake.editMember(late, roles: [], nick: "Changed live")
            let next = try await gateway.next { if case .payload(0, _, _, _, _) = $0 { return true }; return false }
            guard case .payload(0, "GUILD_MEMBER_UPDATE", _, let d, _) = next else { Issue.record("got \(next)"); return }
            #expect(d?["nick"]?.stringValue == "Changed live")

            fake.releaseMemberChunks()
            let second = try await gateway.dispatch("GUILD_MEMBERS_CHUNK")
            #expect(second.d?["chunk_index"]?.fakeInt == 1)
            #expect(second.d?["chunk_count"]?.fakeInt == 2)
        }
    }

    @Test("resume with a sequence from the future closes with 4007 and ends the session")
    func futureSequence() async throws {
        try await withFake(configuration: Self.configuration()) { fake in
            let (first, sessionID, seq) = try await Self.identified(fake)
            first.close(code: 4000)
            _ = try await first.closeCode()
            first.shutdown()
            let second = RawGateway(url: fake.resumeGatewayURL)
            defer { second.shutdown() }
            second.send(op: 6, "{\"token\":\"\(fake.botToken.revealed)\",\"session_id\":\"\(sessionID)\",\"seq\":\(seq + 50)}")
            let code = try await second.closeCode()
            #expect(code == 4007)
            #expect(fake.sessionCount == 0)
        }
    }

    @Test("an exhausted session start limit answers identify with op 9 false")
    func sessionStartLimit() async throws {
        try await withFake(configuration: Self.configuration()) { fake in
            fake.setSessionStartRemaining(0)
            let gateway = RawGateway(url: fake.gatewayURL)
            defer { gateway.shutdown() }
            gateway.identify(token: fake.botToken.revealed)
            let answer = try await gateway.next { if case .payload(9, _, _, _, _) = $0 { return true }; return false }
            guard case .payload(9, _, _, let d, _) = answer else { return }
            #expect(d?.fakeBool == false)
            #expect(fake.identifyCount == 0)
            let rest = try await RawREST(fake: fake).send(.get, "gateway/bot")
            #expect((rest.json?["session_start_limit"] as? [String: Any])?["remaining"] as? Int == 0)
        }
    }

    @Test("a duplicated dispatch comes again with its original sequence number")
    func duplicateDispatch() async throws {
        try await withFake(configuration: Self.configuration()) { fake in
            let (gateway, _, seq) = try await Self.identified(fake)
            defer { gateway.shutdown() }
            fake.duplicateLastDispatch()
            let again = try await gateway.dispatch("GUILD_CREATE")
            #expect(again.s == seq)
        }
    }

    @Test("a hung request answers 504 after the configured time; the activity stream narrates answers")
    func hungRequestAndActivity() async throws {
        var configuration = Self.configuration()
        configuration.hangDuration = .milliseconds(100)
        try await withFake(configuration: configuration) { fake in
            let activity = fake.activity()
            fake.hangNextRESTRequests(1)
            let rest = RawREST(fake: fake)
            let hung = try await rest.send(.get, "guilds/\(fake.guildID)")
            #expect(hung.status == 504)
            var narrated: [String] = []
            for await event in activity {
                if case .response = event { narrated.append(event.description) }
                if narrated.count == 1 { break }
            }
            #expect(narrated == ["← GET /api/v10/guilds/\(fake.guildID) → 504"])
        }
    }

    @Test("a role created over REST is announced with GUILD_ROLE_CREATE; the consent helper gives a code")
    func roleCreateAndConsent() async throws {
        try await withFake(configuration: Self.configuration()) { fake in
            let (gateway, _, _) = try await Self.identified(fake)
            defer { gateway.shutdown() }
            let created = try await RawREST(fake: fake).send(.post, "guilds/\(fake.guildID)/roles", body: "{\"name\":\"Titan Pilots\"}")
            #expect(created.status == 200)
            let event = try await gateway.dispatch("GUILD_ROLE_CREATE")
            #expect(event.d?["role"]?["name"]?.stringValue == "Titan Pilots")

            let user = fake.registerUser(username: "diana")
            fake.setConsentUser(user.id)
            let location = fake.consent(toAuthorizeURL: "\(fake.authorizeURL)?response_type=code&client_id=\(fake.application.id)"
                + "&scope=identify%20guilds.join&state=abc&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb")
            #expect(location?.hasPrefix("http://127.0.0.1:9/cb?code=") == true)
            #expect(location?.hasSuffix("&state=abc") == true)
        }
    }

    @Test("stop() ends a live activity stream instead of deadlocking on it", .timeLimit(.minutes(3)))
    func stopWithLiveObserver() async throws {
        let fake = FakeDiscord(configuration: Self.configuration())
        try await fake.start()
        let activity = fake.activity()
        fake.renameGuild(to: "Renamed")
        await fake.stop()
        var count = 0
        for await _ in activity { count += 1 }
        #expect(count == 0)
    }

    @Test("with restDispatchDelay the answer to a write goes out before the event it causes")
    func delayedRESTDispatch() async throws {
        var configuration = Self.configuration()
        configuration.restDispatchDelay = .milliseconds(200)
        var seed = FakeSeed()
        seed.generatedMembers = 5
        try await withFake(configuration: configuration, seed: seed) { fake in
            let (gateway, _, _) = try await Self.identified(fake)
            defer { gateway.shutdown() }
            let activity = fake.activity()
            let target = fake.ordinaryMemberIDs[0]
            let role = try #require(fake.role(named: "Recruiter"))
            try fake.editMember(target, roles: [])
            let put = try await RawREST(fake: fake).send(.put, "guilds/\(fake.guildID)/members/\(target)/roles/\(role.id)", body: "")
            #expect(put.status == 204)
            _ = try await gateway.dispatch("GUILD_MEMBER_UPDATE")
            _ = try await gateway.dispatch("GUILD_MEMBER_UPDATE")
            var order: [String] = []
            for await event in activity {
                switch event {
                case .response: order.append("response")
                case .dispatch(let sent) where sent.name == "GUILD_MEMBER_UPDATE": order.append("update")
                default: break
                }
                if order.count == 3 { break }
            }
            #expect(order == ["update", "response", "update"])
        }
    }
}
