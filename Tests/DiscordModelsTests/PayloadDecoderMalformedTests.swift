import DiscordModels
import Foundation
import Testing

/// Hostile and broken input: always a thrown `GatewayPayloadError`, never a crash or a value.
@Suite struct PayloadDecoderMalformedTests {
    func refuse(_ bytes: [UInt8], _ decoder: GatewayPayloadDecoder = GatewayPayloadDecoder(),
                sourceLocation: SourceLocation = #_sourceLocation) -> GatewayPayloadError? {
        do {
            let message = try decoder.decode(bytes)
            Issue.record("accepted as \(message): \(String(decoding: bytes, as: UTF8.self))", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    func refuse(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> GatewayPayloadError? {
        refuse(Array(text.utf8), sourceLocation: sourceLocation)
    }

    static let smallMemberUpdate = #"{"t":"GUILD_MEMBER_UPDATE","s":42,"op":0,"d":{"guild_id":"2909267986263572999","#
        + #""roles":["41771983423143936",41771983423143937],"user":{"id":"80351110224678912","username":"n\u00e9lly\ud83d\ude00","#
        + #""global_name":null,"bot":false},"nick":"Nelly \"the\" Great","x":[1.5e-3,-0,true,{"y":null}],"pending":false,"flags":0}}"#

    @Test func theSmallPayloadItselfDecodes() throws {
        guard case .dispatch(.guildMemberUpdate(let event), 42) = try GatewayPayloadDecoder().decode(Array(Self.smallMemberUpdate.utf8)) else {
            Issue.record("not a member update"); return
        }
        #expect(event.member.user?.username == "nélly😀")
        #expect(event.member.nick == #"Nelly "the" Great"#)
        #expect(event.member.roles == [41771983423143936, 41771983423143937])
        try expectSameValue(Self.smallMemberUpdate)
    }

    @Test func everyTruncationIsRefused() {
        let bytes = Array(Self.smallMemberUpdate.utf8)
        for length in 0..<bytes.count {
            let error = refuse(Array(bytes[..<length]))
            #expect(error != nil, "prefix of \(length) bytes")
        }
    }

    /// The same bytes given through every entry point decode the same.
    @Test func everyEntryPointReadsTheSameBytes() throws {
        let bytes = Array(Self.smallMemberUpdate.utf8)
        let decoder = GatewayPayloadDecoder()
        let expected = try decoder.decode(bytes)
        #expect(try decoder.decode(Data(bytes)) == expected)
        #expect(try decoder.decode(bytes[...]) == expected)
        #expect(try decoder.decode(bytes.lazy.map { $0 }) == expected, "a sequence without contiguous storage")
        #expect(try bytes.withUnsafeBytes { raw in try decoder.decode(raw) } == expected)
        // A payload that ends exactly at the end of its buffer, with nothing readable after it.
        let exact = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bytes.count)
        defer { exact.deallocate() }
        _ = exact.initialize(from: bytes)
        #expect(try decoder.decode(UnsafeBufferPointer(exact)) == expected)
    }

    @Test(arguments: [
        #"\x"#, #"\u12"#, #"\u12G4"#, #"\ud800"#, #"\udc00"#, #"\ud800\u0041"#, #"\ud800x"#, #"\ud83d\ud83d"#,
        "\u{01}", "\n", "\t", "\u{1F}",
    ])
    func badEscapesAndControlCharactersAreRefusedInEveryString(_ inner: String) {
        for template in [
            #"{"op":0,"s":1,"t":"USER_UPDATE","d":{"id":"1","username":"a%b"}}"#,        // a read field
            #"{"op":0,"s":1,"t":"USER_UPDATE","d":{"id":"1","username":"a","avatar":"%"}}"#, // a skipped field
            #"{"op":0,"s":1,"t":"USER_UPDATE","d":{"id":"1","username":"a","%":1}}"#,       // a key
            #"{"op":11,"d":{"x":["%"]}}"#,                                                  // a skipped payload
            #"{"op":0,"s":1,"t":"GUILD_ROLE_DELETE","d":{"guild_id":"1","role_id":"2%"}}"#, // a snowflake string
        ] {
            let text = template.replacingOccurrences(of: "%", with: inner)
            let error = refuse(text)
            #expect(error != nil)
        }
    }

    @Test(arguments: [
        [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF0, 0x80, 0x80, 0x80],
        [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0x80], [0xC3], [0xE2, 0x82], [0xC3, 0x28],
        [0xF0, 0x9F, 0x98],
    ] as [[UInt8]])
    func invalidUTF8IsRefusedInEveryString(_ sequence: [UInt8]) {
        for template in [
            #"{"op":0,"s":1,"t":"USER_UPDATE","d":{"id":"1","username":"a%b"}}"#,
            #"{"op":0,"s":1,"t":"USER_UPDATE","d":{"id":"1","username":"a","avatar":"%"}}"#,
            #"{"op":0,"s":1,"t":"USER_UPDATE","d":{"id":"1","username":"a","%":1}}"#,
            #"{"op":11,"d":{"x":["%"]}}"#,
            #"{"op":11,"d":{"x":%}}"#,
            #"%{"op":11}"#,
        ] {
            let parts = template.split(separator: "%", omittingEmptySubsequences: false).map { Array($0.utf8) }
            let error = refuse(parts[0] + sequence + parts[1])
            #expect(error != nil)
        }
    }

    @Test func validUTF8OfEveryLengthIsAccepted() throws {
        let name = "aé€😀\u{10FFFF}\u{E000}"
        let message = try GatewayPayloadDecoder().decode(Array(#"{"op":0,"s":1,"t":"USER_UPDATE","d":{"id":"1","username":"\#(name)"}}"#.utf8))
        #expect(message == .dispatch(.userUpdate(User(id: 1, username: name)), sequence: 1))
    }

    @Test func deepNestingIsRefusedBeforeItCanExhaustTheStack() {
        for depth in [65, 1_000, 100_000] {
            for (open, close) in [("[", "]"), (#"{"a":"#, "}")] {
                let nested = String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth)
                let error = refuse(#"{"op":11,"d":\#(nested)}"#)
                #expect(error?.reason == .tooDeep(limit: 64))
            }
        }
        // Unterminated nesting is refused the same way.
        #expect(refuse(#"{"op":11,"d":"# + String(repeating: "[", count: 1_000_000))?.reason == .tooDeep(limit: 64))
        // A top-level array is not an envelope, however deep.
        #expect(refuse(String(repeating: "[", count: 1_000_000))?.reason == .typeMismatch)
    }

    @Test func nestingUpToTheLimitIsAccepted() throws {
        // The envelope is level 1, so `d` may nest 63 more.
        let nested = String(repeating: "[", count: 63) + String(repeating: "]", count: 63)
        #expect(try GatewayPayloadDecoder().decode(Array(#"{"op":11,"d":\#(nested)}"#.utf8)) == .heartbeatACK)
        let ceiling = GatewayPayloadDecoder(maximumDepth: .max)
        let tooDeep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(refuse(Array(#"{"op":11,"d":\#(tooDeep)}"#.utf8), ceiling)?.reason == .tooDeep(limit: GatewayPayloadDecoder.depthCeiling))
        let deeper = GatewayPayloadDecoder(maximumDepth: 200)
        let nested150 = String(repeating: "[", count: 150) + String(repeating: "]", count: 150)
        #expect(try deeper.decode(Array(#"{"op":11,"d":\#(nested150)}"#.utf8)) == .heartbeatACK)
    }

    @Test func hugeNumbersAreRefusedForIntegerFieldsAndSkippedElsewhere() throws {
        let digits = String(repeating: "7", count: 1_000_000)
        #expect(refuse(#"{"op":10,"d":{"heartbeat_interval":\#(digits)}}"#)?.reason == .invalidNumber)
        #expect(refuse(#"{"op":10,"d":{"heartbeat_interval":0.\#(digits)e1000000}}"#)?.reason == .invalidNumber)
        #expect(refuse(#"{"op":0,"s":1,"t":"GUILD_ROLE_DELETE","d":{"guild_id":"\#(digits)","role_id":"1"}}"#)?.reason
            == .invalidDecimalString)
        let skipped = try GatewayPayloadDecoder().decode(Array(#"{"op":10,"d":{"x":-\#(digits).\#(digits)E+\#(digits),"heartbeat_interval":1}}"#.utf8))
        #expect(skipped == .hello(Hello(heartbeatInterval: 1)))
    }

    @Test func oversizedPayloadsAreRefusedBeforeReading() {
        let decoder = GatewayPayloadDecoder(maximumPayloadSize: 16)
        #expect(refuse(Array(#"{"op":11,"d":null}"#.utf8), decoder)?.reason == .tooLarge(limit: 16))
        #expect(throws: Never.self) { try decoder.decode(Array(#"{"op":11}"#.utf8)) }
    }

    @Test(arguments: [
        "", " ", "null", "[]", "{", "}", #"{"op":11,}"#, #"{"op":11 "d":1}"#, #"{"op" 11}"#, #"{op:11}"#,
        #"{'op':11}"#, #"{"op":11}x"#, #"{"op":11}{}"#, #"{"op":11,"d":[1,]}"#, #"{"op":11,"d":[,1]}"#,
        #"{"op":11,"d":[1 2]}"#, #"{"op":11,"d":tru}"#, #"{"op":11,"d":nul}"#, #"{"op":11,"d":True}"#,
        #"{"op":11,"d":01}"#, #"{"op":11,"d":1.}"#, #"{"op":11,"d":.5}"#, #"{"op":11,"d":-}"#, #"{"op":11,"d":1e}"#,
        #"{"op":11,"d":1e+}"#, #"{"op":11,"d":+1}"#, #"{"op":11,"d":NaN}"#, #"{"op":11,"d":Infinity}"#,
        #"{"op":11,"d":0x10}"#, #"{"op":11,"d":{"a"}}"#, #"{"op":11,"d":{"a":}}"#, #"{"op":11,"d":{1:2}}"#,
        #"{"op":11,"d":"unterminated}"#, "{\"op\":11,\"d\":\u{00A0}1}", #"{"op":11"#, "\u{FEFF}{\"op\":11}",
    ])
    func malformedJSONIsRefused(_ text: String) {
        let error = refuse(text)
        #expect(error != nil)
    }

    @Test func errorsSayWhereButNeverQuoteThePayload() throws {
        let secret = "mfa.SECRET-TOKEN-VALUE"
        let error = try #require(refuse(#"{"op":0,"s":1,"t":"USER_UPDATE","d":{"id":"\#(secret)","username":"x"}}"#))
        #expect(error.reason == .invalidDecimalString)
        #expect(error.offset == 42)
        #expect(!error.description.contains("SECRET"))
        let missing = try #require(refuse(#"{"op":0,"s":1,"t":"USER_UPDATE","d":{"id":"1"}}"#))
        #expect(missing.reason == .missingField("username"))
    }

    /// Property: random byte edits of valid payloads never crash; whatever the fast decoder still
    /// accepts, Foundation accepts too, with the same value.
    @Test func randomByteEditsNeverCrashAndNeverDisagree() async {
        var rng = SeededGenerator(seed: 0x5EED)
        let edits: [UInt8] = Array(#"{}[],:"\ -.0123456789eEtrufalsn"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xE2, 0xED, 0xF0, 0xFF]
        var accepted = 0
        for seed in UInt64(1)...150 {
            // Yields each round: a long loop would hold one of the cooperative pool's threads (two on a
            // 2-core machine) and stall every other test's waits.
            await Task.yield()
            var generator = PayloadGenerator(seed: seed &+ 50_000)
            var renderer = JSONRenderer(rng: SeededGenerator(seed: seed))
            let original = Array(renderer.render(generator.payload()).utf8)
            for _ in 0..<20 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    let index = Int.random(in: 0..<bytes.count, using: &rng)
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: bytes[index] = rng.pick(edits)
                    case 1: bytes.remove(at: index); if bytes.isEmpty { bytes = [0x20] }
                    default: bytes.insert(rng.pick(edits), at: index)
                    }
                }
                guard let fast = try? GatewayPayloadDecoder().decode(bytes) else { continue }
                accepted += 1
                let codable = try? JSONDecoder().decode(GatewayMessage.self, from: Data(bytes))
                #expect(codable == fast, "payload: \(String(decoding: bytes, as: UTF8.self))")
            }
        }
        #expect(accepted > 0)
    }
}
