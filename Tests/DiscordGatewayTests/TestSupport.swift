import DiscordGateway
import DiscordModels
import Foundation

/// Always the same number: jitters become predictable (0.5 → first heartbeat after half the interval,
/// backoff × 0.75, op 9 delay 3 s).
struct FixedRandom: GatewayRandomSource {
    var value: Double
    init(_ value: Double = 0.5) { self.value = value }
    mutating func nextUnit() -> Double { value }
}

/// A payload the client sent, read back: `op` and `d`.
struct SentPayload: Decodable, Equatable {
    var op: Int
    var d: JSONValue?

    init(_ bytes: [UInt8]) throws {
        self = try JSONDecoder().decode(SentPayload.self, from: Data(bytes))
    }

    subscript(key: String) -> JSONValue? { d?[key] }
}

extension JSONValue {
    var intValue: Int? { if case .number(let n) = self { return Int(n) }; return nil }
}

enum Fixtures {
    static let token = Secret("test-bot-token-value")
    static let guildID: Snowflake = 81384788765712384
    static let gatewayBase = "wss://gateway.test"
    static let resumeBase = "wss://resume.test"
    static let query = "/?v=10&encoding=json&compress=zlib-stream"

    static func configuration(canFetch: Bool = false, gatewayURL: String? = gatewayBase) -> GatewaySessionConfiguration {
        GatewaySessionConfiguration(token: token, guildID: guildID, presence: .invisible,
                                    gatewayURL: gatewayURL, canFetchGatewayBot: canFetch)
    }

    static let budget = IdentifyBudget(total: 1000, remaining: 1000, resetAt: .seconds(86_400))

    static func ready(sessionID: String = "session-1", applicationID: Snowflake? = nil) -> Ready {
        Ready(user: User(id: 1, username: "warden", bot: true), guilds: [UnavailableGuild(id: guildID, unavailable: true)],
              sessionID: sessionID, resumeGatewayURL: resumeBase, applicationID: applicationID)
    }

    // JSON as Discord sends it, for the client tests.
    static func helloJSON(interval: Int = 41250) -> String {
        #"{"op":10,"d":{"heartbeat_interval":\#(interval),"_trace":["gateway-prd"]},"s":null,"t":null}"#
    }
    static let ackJSON = #"{"op":11,"d":null,"s":null,"t":null}"#
    static func readyJSON(sequence: Int = 1, sessionID: String = "session-1") -> String {
        #"{"op":0,"s":\#(sequence),"t":"READY","d":{"v":10,"user":{"id":"1","username":"warden","discriminator":"0","bot":true},"guilds":[{"id":"\#(guildID)","unavailable":true}],"session_id":"\#(sessionID)","resume_gateway_url":"\#(resumeBase)","application":{"id":"1"},"session_type":"normal"}}"#
    }
    static func resumedJSON(sequence: Int) -> String {
        #"{"op":0,"s":\#(sequence),"t":"RESUMED","d":{"_trace":["x"]}}"#
    }
    static func roleDeleteJSON(sequence: Int, roleID: Int = 5) -> String {
        #"{"op":0,"s":\#(sequence),"t":"GUILD_ROLE_DELETE","d":{"guild_id":"\#(guildID)","role_id":"\#(roleID)"}}"#
    }
    static func chunkJSON(sequence: Int, nonce: String, index: Int, count: Int, members: Int) -> String {
        let list = (0..<members).map { i in
            #"{"user":{"id":"\#(1_000_000 + index * 1000 + i)","username":"m\#(i)","discriminator":"0"},"roles":["7"],"joined_at":"2024-01-01T00:00:00Z"}"#
        }.joined(separator: ",")
        return #"{"op":0,"s":\#(sequence),"t":"GUILD_MEMBERS_CHUNK","d":{"guild_id":"\#(guildID)","members":[\#(list)],"chunk_index":\#(index),"chunk_count":\#(count),"nonce":"\#(nonce)"}}"#
    }
    static let reconnectJSON = #"{"op":7,"d":null,"s":null,"t":null}"#
    static func invalidSessionJSON(resumable: Bool) -> String { #"{"op":9,"d":\#(resumable),"s":null,"t":null}"# }
}

extension Array where Element == GatewayAction {
    var sentPayloads: [SentPayload] {
        compactMap { if case .send(let bytes) = $0 { try? SentPayload(bytes) } else { nil } }
    }
    var sentOps: [Int] { sentPayloads.map(\.op) }
    var connectURLs: [String] { compactMap { if case .connect(let url) = $0 { url } else { nil } } }
    var closeCodes: [UInt16] { compactMap { if case .close(let code) = $0 { code } else { nil } } }
    var disconnectReasons: [GatewayDisconnectReason] {
        compactMap { if case .disconnected(let reason) = $0 { reason } else { nil } }
    }
    var states: [GatewayConnectionState] { compactMap { if case .stateChanged(let s) = $0 { s } else { nil } } }
}
