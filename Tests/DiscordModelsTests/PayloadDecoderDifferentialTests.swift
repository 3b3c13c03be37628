import DiscordModels
import Foundation
import Testing

/// The fast decoder must give exactly what the Codable path gives.
func codableDecode(_ text: String) -> Result<GatewayMessage, any Error> {
    Result { try JSONDecoder().decode(GatewayMessage.self, from: Data(text.utf8)) }
}

func fastDecode(_ text: String) -> Result<GatewayMessage, GatewayPayloadError> {
    Result { () throws(GatewayPayloadError) -> GatewayMessage in try GatewayPayloadDecoder().decode(Array(text.utf8)) }
}

/// Both accept with equal values, or both refuse.
func expectSameOutcome(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    switch (codableDecode(text), fastDecode(text)) {
    case (.success(let expected), .success(let actual)):
        #expect(actual == expected, "payload: \(text)", sourceLocation: sourceLocation)
    case (.failure, .failure):
        break
    case (.success(let expected), .failure(let error)):
        Issue.record("fast decoder refused (\(error)) what Codable decodes as \(expected): \(text)",
                     sourceLocation: sourceLocation)
    case (.failure(let error), .success(let actual)):
        Issue.record("fast decoder accepted as \(actual) what Codable refuses (\(error)): \(text)",
                     sourceLocation: sourceLocation)
    }
}

/// Expects both decoders to accept `text` and agree.
func expectSameValue(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let expected = try JSONDecoder().decode(GatewayMessage.self, from: Data(text.utf8))
    let actual = try GatewayPayloadDecoder().decode(Array(text.utf8))
    #expect(actual == expected, "payload: \(text)", sourceLocation: sourceLocation)
}

@Suite struct PayloadDecoderDifferentialTests {
    static let gatewayFixtures = ["hello", "ready", "guild-members-chunk", "guild-member-update"]

    @Test(arguments: gatewayFixtures)
    func gatewayFixturesDecodeAlike(_ name: String) throws {
        try expectSameValue(String(decoding: try Fixture.data(name), as: UTF8.self))
    }

    /// The object fixtures, wrapped in the dispatches that carry them.
    @Test func objectFixturesDecodeAlikeInsideTheirDispatches() throws {
        func text(_ name: String) throws -> String { String(decoding: try Fixture.data(name), as: UTF8.self) }
        func dispatch(_ event: String, _ data: String) -> String { #"{"t":"\#(event)","s":3,"op":0,"d":\#(data)}"# }
        /// `{"guild_id": "9", …the fixture's own keys}`.
        func withGuildID(_ object: String) -> String {
            let body = object.drop { $0 != "{" }.dropFirst()
            return #"{"guild_id":"9","# + body
        }
        let guild = try text("guild")
        for event in ["GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"] { try expectSameValue(dispatch(event, guild)) }
        for role in ["role", "role-bot", "role-booster"] {
            for event in ["GUILD_ROLE_CREATE", "GUILD_ROLE_UPDATE"] {
                try expectSameValue(dispatch(event, #"{"guild_id":"9","role":\#(try text(role))}"#))
            }
        }
        let member = try text("member")
        for event in ["GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE"] { try expectSameValue(dispatch(event, withGuildID(member))) }
        try expectSameValue(dispatch("GUILD_MEMBERS_CHUNK",
                                     #"{"guild_id":"9","members":[\#(member),\#(member)],"chunk_index":0,"chunk_count":1}"#))
        // Payloads Warden does not read are skipped whole, whatever their shape.
        for other in ["gateway-bot", "error-invalid-form-body", "guild", "member"] {
            try expectSameValue(dispatch("SOMETHING_NEW", try text(other)))
            try expectSameValue(#"{"op":11,"d":\#(try text(other))}"#)
        }
    }

    @Test(arguments: [
        #"{"op": 11}"#,
        #"{"op": 11, "d": null, "s": null, "t": null}"#,
        #"{"op": 1, "d": 251}"#,
        #"{"op": 7, "d": null}"#,
        #"{"op": 9, "d": true}"#,
        #"{"op": 9, "d": false}"#,
        #"{"op": 9}"#,
        #"{"op": 9, "d": {"resumable": true}}"#,
        #"{"op": 99, "d": {}}"#,
        #"{"d": {"heartbeat_interval": 41250, "_trace": ["x"]}, "op": 10}"#,
        #"{"op": 0, "s": 3, "t": "RESUMED", "d": {"_trace": []}}"#,
        #"{"op": 0, "s": 4, "t": "TYPING_START", "d": {"x": 1}}"#,
        #"{"d": {"x": 1}, "s": 4, "t": "TYPING_START", "op": 0}"#,
        #"{"op":0,"s":5,"t":"GUILD_DELETE","d":{"id":"9","unavailable":true}}"#,
        #"{"op":0,"s":5,"t":"GUILD_DELETE","d":{"id":9}}"#,
        #"{"op":0,"s":6,"t":"GUILD_CREATE","d":{"id":"9","unavailable":true}}"#,
        #"{"op":0,"s":8,"t":"GUILD_ROLE_DELETE","d":{"guild_id":"9","role_id":"77"}}"#,
        #"{"op":0,"s":10,"t":"RATE_LIMITED","d":{"opcode":8,"retry_after":27.5,"meta":{"guild_id":"9","nonce":"n"}}}"#,
        #"{"op":0,"s":10,"t":"RATE_LIMITED","d":{"opcode":8,"retry_after":1,"meta":null}}"#,
        #"{"op":0,"s":11,"t":"USER_UPDATE","d":{"id":"5","username":"me","bot":true}}"#,
        #"{"t":"GUILD_MEMBER_UPDATE","s":1,"op":0,"d":{"guild_id":"1","user":null,"roles":null,"pending":null,"flags":null}}"#,
        #"{"t":"GUILD_MEMBER_ADD","s":1,"op":0,"d":{"guild_id":"1","pending":true,"flags":2.0,"roles":[1e3,"5"]}}"#,
        #"{"t":"GUILD_ROLE_CREATE","s":1,"op":0,"d":{"guild_id":"1","role":{"id":"2","name":"n","position":1,"tags":{"premium_subscriber":null,"bot_id":"3"}}}}"#,
        #"{"t":"GUILD_ROLE_UPDATE","s":1,"op":0,"d":{"guild_id":"1","role":{"id":"2","name":"n","position":1,"tags":{"guild_connections":5,"available_for_purchase":{}}}}}"#,
        // Duplicate keys: the first one counts, as in Foundation.
        #"{"op":11,"op":1}"#,
        #"{"op":0,"t":"GUILD_ROLE_DELETE","s":1,"d":{"guild_id":"1","role_id":"2","role_id":"3"},"d":5}"#,
        #"{"op":0,"t":"GUILD_ROLE_DELETE","t":"X","s":1,"s":null,"d":{"guild_id":"1","guild_id":true,"role_id":"2"}}"#,
        // Escaped keys and names.
        #"{"\u006fp":0,"t":"GUILD_\u0052OLE_DELETE","s":1,"d":{"guild_id":"1","role\u005fid":"\u0032"}}"#,
        #"{"op":0,"t":"GUILD_MEMBERS_CHUNK","d":{"guild_id":"1","members":[],"chunk_index":0,"chunk_count":1,"not_found":[2,"3"]}}"#,
        // Integers spelt with fractions or exponents are exact integers.
        #"{"op":10.0,"d":{"heartbeat_interval":4.125e4}}"#,
        #"{"op":0,"s":-0,"t":"X"}"#,
        #"{"op":10,"d":{"heartbeat_interval":0.05e2}}"#,
        #"{"op":10,"d":{"heartbeat_interval":100e-2}}"#,
        #"{"op":10,"d":{"heartbeat_interval":41250.000000000000000000000000000000}}"#,
        #"{"op":10,"d":{"heartbeat_interval":0e999999999999999999999}}"#,
        #"{"op":0,"s":1,"t":"GUILD_ROLE_DELETE","d":{"guild_id":80351110224678913.0,"role_id":8035111022467891.3e1}}"#,
    ])
    func handWrittenPayloadsDecodeAlike(_ text: String) throws {
        try expectSameValue(text)
    }

    /// Well-formed JSON with wrong or missing fields: both decoders refuse.
    @Test(arguments: [
        #"{"d": null}"#,
        #"{"op": "11"}"#,
        #"{"op": 1.5}"#,
        #"{"op": null}"#,
        #"{"op": 10}"#,
        #"{"op": 10, "d": null}"#,
        #"{"op": 10, "d": {"heartbeat_interval": "1"}}"#,
        #"{"op": 0, "s": 1, "d": {}}"#,
        #"{"op": 0, "s": 1, "t": null, "d": {}}"#,
        #"{"op": 0, "s": "1", "t": "RESUMED"}"#,
        #"{"op": 0, "s": 1.5, "t": "RESUMED"}"#,
        #"{"op": 0, "s": 1, "t": "GUILD_MEMBERS_CHUNK"}"#,
        #"{"op":0,"s":1,"t":"GUILD_MEMBER_UPDATE","d":{"roles":"nope"}}"#,
        #"{"op":0,"s":1,"t":"GUILD_MEMBER_UPDATE","d":{"guild_id":"1","roles":[null]}}"#,
        #"{"op":0,"s":1,"t":"GUILD_MEMBER_UPDATE","d":{"guild_id":"1","roles":["-1"]}}"#,
        #"{"op":0,"s":1,"t":"GUILD_MEMBER_UPDATE","d":{"guild_id":"1","roles":[-1]}}"#,
        #"{"op":0,"s":1,"t":"GUILD_MEMBER_UPDATE","d":{"guild_id":"1","roles":["18446744073709551616"]}}"#,
        #"{"op":0,"s":1,"t":"GUILD_MEMBER_UPDATE","d":{"guild_id":"1","roles":[""]}}"#,
        #"{"op":0,"s":1,"t":"GUILD_MEMBER_UPDATE","d":{"guild_id":"1","roles":[" 1"]}}"#,
        #"{"op":0,"s":1,"t":"GUILD_MEMBER_UPDATE","d":{"guild_id":"1","pending":1}}"#,
        #"{"op":0,"s":1,"t":"GUILD_MEMBER_UPDATE","d":{"guild_id":"1","flags":0.5}}"#,
        #"{"op":0,"s":1,"t":"GUILD_MEMBER_UPDATE","d":{"guild_id":"1","user":{"id":"1"}}}"#,
        #"{"op":0,"s":1,"t":"GUILD_MEMBER_UPDATE","d":{"guild_id":"1","user":{"id":"1","username":null}}}"#,
        #"{"op":0,"s":1,"t":"GUILD_ROLE_CREATE","d":{"guild_id":"1","role":{"id":"2","name":"n"}}}"#,
        #"{"op":0,"s":1,"t":"GUILD_ROLE_CREATE","d":{"guild_id":"1","role":{"id":"2","name":"n","position":1,"permissions":"8a"}}}"#,
        #"{"op":0,"s":1,"t":"GUILD_ROLE_CREATE","d":{"guild_id":"1","role":{"id":"2","name":"n","position":1,"tags":{"bot_id":true}}}}"#,
        #"{"op":0,"s":1,"t":"GUILD_CREATE","d":{"id":"9","unavailable":false}}"#,
        #"{"op":0,"s":1,"t":"GUILD_CREATE","d":{"id":"9","unavailable":"yes"}}"#,
        #"{"op":0,"s":1,"t":"RATE_LIMITED","d":{"opcode":8,"retry_after":1e400}}"#,
        #"{"op":0,"s":1,"t":"RATE_LIMITED","d":{"opcode":8,"retry_after":"1"}}"#,
        #"{"op":0,"s":1,"t":"GUILD_MEMBERS_CHUNK","d":{"guild_id":"1","members":[],"chunk_index":0}}"#,
        #"{"op":0,"s":1,"t":"GUILD_MEMBERS_CHUNK","d":{"guild_id":"1","members":[],"chunk_index":0,"chunk_count":9223372036854775808}}"#,
        #"{"op":10,"d":{"heartbeat_interval":1e99999999999999999999}}"#,
        #"{"op":10,"d":{"heartbeat_interval":123456789012345678901234567890e-29}}"#,
        #"{"op":10,"d":{"heartbeat_interval":-9223372036854775809}}"#,
        #"[{"op": 11}]"#,
        #""op""#,
    ])
    func wrongFieldsAreRefusedByBoth(_ text: String) {
        #expect(throws: (any Error).self) { try JSONDecoder().decode(GatewayMessage.self, from: Data(text.utf8)) }
        #expect(throws: GatewayPayloadError.self) { try GatewayPayloadDecoder().decode(Array(text.utf8)) }
    }

    /// Generated payloads of every kind, spelt every valid way: same value from both decoders.
    @Test func generatedPayloadsDecodeAlike() async {
        var kinds = Set<String>()
        for seed in UInt64(1)...400 {
            // Yields each round: a long loop would hold one of the cooperative pool's threads (two on a
            // 2-core machine) and stall every other test's waits.
            await Task.yield()
            var generator = PayloadGenerator(seed: seed)
            var renderer = JSONRenderer(rng: SeededGenerator(seed: seed &* 7919))
            let text = renderer.render(generator.payload())
            expectSameOutcome(text)
            guard case .success(let message) = fastDecode(text) else {
                Issue.record("seed \(seed): a valid generated payload was refused"); continue
            }
            kinds.insert(Self.kind(message))
        }
        let expected: Set<String> = [
            "hello", "heartbeatRequest", "heartbeatACK", "reconnect", "invalidSession", "unknown", "READY", "RESUMED",
            "GUILD_CREATE", "GUILD_CREATE unavailable", "GUILD_UPDATE", "GUILD_DELETE", "GUILD_ROLE_CREATE",
            "GUILD_ROLE_UPDATE", "GUILD_ROLE_DELETE", "GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE",
            "GUILD_MEMBERS_CHUNK", "USER_UPDATE", "RATE_LIMITED", "other",
        ]
        #expect(kinds == expected, "every kind of message is generated")
    }

    static func kind(_ message: GatewayMessage) -> String {
        switch message {
        case .hello: "hello"
        case .heartbeatRequest: "heartbeatRequest"
        case .heartbeatACK: "heartbeatACK"
        case .reconnect: "reconnect"
        case .invalidSession: "invalidSession"
        case .unknown: "unknown"
        case .dispatch(.other, _): "other"
        case .dispatch(.guildCreateUnavailable, _): "GUILD_CREATE unavailable"
        case .dispatch(let dispatch, _): dispatch.name
        }
    }

    /// Keys spelt entirely with `\uXXXX` escapes are the same keys.
    @Test func fullyEscapedKeysAreTheSameKeys() {
        for seed in UInt64(2_000)...2_100 {
            var generator = PayloadGenerator(seed: seed)
            var renderer = JSONRenderer(rng: SeededGenerator(seed: seed), escapeRate: 0, keyEscapeRate: 1)
            let text = renderer.render(generator.payload())
            expectSameOutcome(text)
            guard case .success = fastDecode(text) else {
                Issue.record("seed \(seed): a valid generated payload was refused"); continue
            }
        }
    }

    /// Property: with one field somewhere replaced by another type, removed or duplicated, both
    /// decoders still accept and refuse the same payloads, and agree on what they accept.
    @Test func mutatedPayloadsGetTheSameOutcome() async {
        var refused = 0
        for seed in UInt64(1_000)...1_600 {
            await Task.yield()
            var generator = PayloadGenerator(seed: seed)
            var renderer = JSONRenderer(rng: SeededGenerator(seed: seed ^ 0xA5A5))
            let text = renderer.render(generator.mutate(generator.payload()))
            expectSameOutcome(text)
            if case .failure = fastDecode(text) { refused += 1 }
        }
        #expect(refused > 20, "the mutations should produce refused payloads too")
    }
}
