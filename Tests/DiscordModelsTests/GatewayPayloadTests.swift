import DiscordModels
import Foundation
import Testing

@Suite struct GatewayMessageTests {
    func message(_ name: String) throws -> GatewayMessage { try Fixture.decode(GatewayMessage.self, name) }

    @Test func hello() throws {
        #expect(try message("hello") == .hello(Hello(heartbeatInterval: 45000)))
    }

    @Test func readyCarriesTheSessionAndTheBot() throws {
        guard case .dispatch(.ready(let ready), let sequence) = try message("ready") else {
            Issue.record("not READY"); return
        }
        #expect(sequence == 1)
        #expect(ready.sessionID == "9a3f5e2c1b7d4e6f8a0b2c4d6e8f0a1b")
        #expect(ready.resumeGatewayURL == "wss://gateway-us-east1-b.discord.gg")
        #expect(ready.user.bot)
        #expect(ready.user.discriminator == "4821")
        #expect(ready.applicationID == Snowflake(1111111111111111112))
        #expect(ready.guilds == [UnavailableGuild(id: 2909267986263572999, unavailable: true)])
    }

    @Test func membersChunkKnowsItsPlace() throws {
        guard case .dispatch(.guildMembersChunk(let chunk), 7) = try message("guild-members-chunk") else {
            Issue.record("not a chunk"); return
        }
        #expect(chunk.members.count == 2)
        #expect(chunk.members[1].user?.id == Snowflake(80351110224678913), "ids may also come as numbers")
        #expect(chunk.members[1].pending)
        #expect(chunk.nonce == "warden-1")
        #expect(!chunk.isLast)
    }

    @Test func memberUpdateReplacesRolesAndNick() throws {
        guard case .dispatch(.guildMemberUpdate(let update), 42) = try message("guild-member-update") else {
            Issue.record("not a member update"); return
        }
        #expect(update.guildID == Snowflake(2909267986263572999))
        #expect(update.member.roles.count == 2)
        #expect(update.member.nick == "Nelly the Great")
    }

    @Test(arguments: [
        (#"{"op": 11}"#, GatewayMessage.heartbeatACK),
        (#"{"op": 11, "d": null, "s": null, "t": null}"#, .heartbeatACK),
        (#"{"op": 1, "d": 251}"#, .heartbeatRequest),
        (#"{"op": 7, "d": null}"#, .reconnect),
        (#"{"op": 9, "d": true}"#, .invalidSession(resumable: true)),
        (#"{"op": 9, "d": false}"#, .invalidSession(resumable: false)),
        (#"{"op": 99, "d": {}}"#, .unknown(op: 99)),
        (#"{"op": 0, "s": 3, "t": "RESUMED", "d": {"_trace": []}}"#, .dispatch(.resumed, sequence: 3)),
        (#"{"op": 0, "s": 4, "t": "TYPING_START", "d": {"x": 1}}"#, .dispatch(.other(name: "TYPING_START"), sequence: 4)),
    ])
    func opcodes(_ json: String, _ expected: GatewayMessage) throws {
        #expect(try decodeJSON(GatewayMessage.self, json) == expected)
    }

    @Test func guildEvents() throws {
        let outage = try decodeJSON(GatewayMessage.self, #"{"op":0,"s":5,"t":"GUILD_DELETE","d":{"id":"9","unavailable":true}}"#)
        #expect(outage == .dispatch(.guildDelete(UnavailableGuild(id: 9, unavailable: true)), sequence: 5))
        let unavailableCreate = try decodeJSON(GatewayMessage.self, #"{"op":0,"s":6,"t":"GUILD_CREATE","d":{"id":"9","unavailable":true}}"#)
        #expect(unavailableCreate == .dispatch(.guildCreateUnavailable(UnavailableGuild(id: 9, unavailable: true)), sequence: 6))
        let roleDelete = try decodeJSON(GatewayMessage.self, #"{"op":0,"s":8,"t":"GUILD_ROLE_DELETE","d":{"guild_id":"9","role_id":"77"}}"#)
        #expect(roleDelete == .dispatch(.guildRoleDelete(GuildRoleDelete(guildID: 9, roleID: 77)), sequence: 8))
        let remove = try decodeJSON(GatewayMessage.self, #"{"op":0,"s":9,"t":"GUILD_MEMBER_REMOVE","d":{"guild_id":"9","user":{"id":"5","username":"gone","discriminator":"0","global_name":null,"avatar":null}}}"#)
        #expect(remove == .dispatch(.guildMemberRemove(GuildMemberRemove(guildID: 9, user: User(id: 5, username: "gone"))), sequence: 9))
        let limited = try decodeJSON(GatewayMessage.self, #"{"op":0,"s":10,"t":"RATE_LIMITED","d":{"opcode":8,"retry_after":27.5,"meta":{"guild_id":"9","nonce":"n"}}}"#)
        #expect(limited == .dispatch(.rateLimited(GatewayRateLimited(opcode: 8, retryAfter: 27.5, guildID: 9, nonce: "n")), sequence: 10))
    }

    @Test func aMalformedDispatchIsAnErrorNotACrash() {
        #expect(throws: DecodingError.self) {
            try decodeJSON(GatewayMessage.self, #"{"op":0,"s":1,"t":"GUILD_MEMBER_UPDATE","d":{"roles":"nope"}}"#)
        }
        #expect(throws: DecodingError.self) { try decodeJSON(GatewayMessage.self, #"{"d": null}"#) }
    }
}

@Suite struct GatewayCommandTests {
    @Test func identifyIsShapedAsDocumented() throws {
        var identify = Identify(token: "tok", presence: .init(status: .invisible))
        identify.largeThreshold = 250
        let json = try encodeJSON(GatewayCommand(op: .identify, d: identify))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["op"] as? Int == 2)
        let d = try #require(object["d"] as? [String: Any])
        #expect(d["intents"] as? Int == 3)
        #expect(d["large_threshold"] as? Int == 250)
        #expect((d["properties"] as? [String: String])?["os"] == "linux")
        #expect((d["presence"] as? [String: Any])?["status"] as? String == "invisible")
        #expect(d["compress"] == nil, "transport compression forbids payload compression")
    }

    @Test func heartbeatCarriesTheLastSequenceOrNull() throws {
        #expect(try encodeJSON(GatewayCommand<Int?>.heartbeat(lastSequence: 251)) == #"{"d":251,"op":1}"#)
        #expect(try encodeJSON(GatewayCommand<Int?>.heartbeat(lastSequence: nil)) == #"{"d":null,"op":1}"#)
    }

    @Test func resumeAndRequestMembers() throws {
        #expect(try encodeJSON(GatewayCommand(op: .resume, d: Resume(token: "t", sessionID: "s", seq: 1337)))
            == #"{"d":{"seq":1337,"session_id":"s","token":"t"},"op":6}"#)
        #expect(try encodeJSON(GatewayCommand(op: .requestGuildMembers, d: RequestGuildMembers(guildID: 9, nonce: "n1")))
            == #"{"d":{"guild_id":"9","limit":0,"nonce":"n1","presences":false,"query":""},"op":8}"#)
    }
}

@Suite struct CloseCodeTests {
    @Test(arguments: [4004, 4010, 4011, 4012, 4013, 4014])
    func fatalCodesStop(_ code: UInt16) {
        #expect(GatewayCloseCode(rawValue: code).isFatal)
        #expect(GatewayCloseCode(rawValue: code).action == .fatal)
    }

    @Test(arguments: [4003, 4007, 4009])
    func sessionEndingCodesIdentify(_ code: UInt16) {
        #expect(GatewayCloseCode(rawValue: code).action == .identify)
    }

    @Test(arguments: [4000, 4001, 4002, 4005, 4008, 1000, 1001, 1006, 1011])
    func othersResume(_ code: UInt16) {
        #expect(GatewayCloseCode(rawValue: code).action == .resume)
        #expect(!GatewayCloseCode(rawValue: code).isFatal)
    }
}
