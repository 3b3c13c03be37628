import DiscordGateway
import DiscordModels
import Foundation
import GuildState

/// `ingest_members_per_sec`: zlib-stream inflate + GatewayPayloadDecoder + GuildState.apply(chunk:), one core,
/// and `ingest_baseline_members_per_sec`: the same inflated JSON decoded by Foundation's JSONDecoder.
func runIngestBench(count: Int, rounds: Int, report: Report) throws {
    report.note("ingest: generating and compressing \(count) members")
    let members = SyntheticGuild.members(count: count, seed: 7)
    let payloads = SyntheticGuild.chunkPayloads(members)
    let deflater = ZlibStreamDeflater()
    let compressed = payloads.map { deflater.compress($0) }
    let roles = SyntheticGuild.roles()
    let guild = SyntheticGuild.guild(roles: roles, memberCount: count)
    let decoder = GatewayPayloadDecoder()
    let n = Double(count)
    let inflatedBytes = payloads.reduce(0) { $0 + $1.count }
    let compressedBytes = compressed.reduce(0) { $0 + $1.count }

    var full: [Double] = []
    var inflateOnly: [Double] = []
    var decodeOnly: [Double] = []
    var applyOnly: [Double] = []
    var baseline: [Double] = []
    var sink = 0
    for _ in 0..<rounds {
        // The whole path, as the gateway loop runs it.
        var state = GuildState(guildID: SyntheticGuild.guildID)
        _ = state.apply(.guildCreate(guild))
        let inflater = try ZlibStreamInflater()
        full.append(try seconds {
            state.beginMemberFill(nonce: "bench")
            for message in compressed {
                guard let json = try inflater.feed(message) else { fatalError("incomplete payload") }
                let decoded = try json.withUnsafeBufferPointer { try decoder.decode($0) }
                guard case .dispatch(.guildMembersChunk(let chunk), _) = decoded else { fatalError("not a chunk") }
                _ = state.apply(chunk: chunk)
            }
        })
        precondition(state.memberCount == count, "the fill lost members")

        // Where the time goes: each stage alone.
        let inflater2 = try ZlibStreamInflater()
        inflateOnly.append(try seconds {
            for message in compressed { sink &+= try inflater2.feed(message)?.count ?? 0 }
        })
        var chunks: [GuildMembersChunk] = []
        chunks.reserveCapacity(payloads.count)
        decodeOnly.append(try seconds {
            for json in payloads {
                let decoded = try json.withUnsafeBufferPointer { try decoder.decode($0) }
                guard case .dispatch(.guildMembersChunk(let chunk), _) = decoded else { fatalError("not a chunk") }
                chunks.append(chunk)
            }
        })
        var state2 = GuildState(guildID: SyntheticGuild.guildID)
        _ = state2.apply(.guildCreate(guild))
        applyOnly.append(seconds {
            state2.beginMemberFill(nonce: "bench")
            for chunk in chunks { _ = state2.apply(chunk: chunk) }
        })
        chunks = []

        // Baseline: Foundation's JSONDecoder into plain Codable structs, same inflated input.
        let jsonDecoder = JSONDecoder()
        baseline.append(try seconds {
            for json in payloads {
                let envelope = try jsonDecoder.decode(BaselineEnvelope.self, from: Data(json))
                sink &+= envelope.d.members.count
            }
        })
    }
    precondition(sink != 0)
    report.add("ingest_members_per_sec", n / median(full), "members/s")
    report.add("ingest_baseline_members_per_sec", n / median(baseline), "members/s")
    report.add("ingest_inflate_only_members_per_sec", n / median(inflateOnly), "members/s")
    report.add("ingest_decode_only_members_per_sec", n / median(decodeOnly), "members/s")
    report.add("ingest_apply_only_members_per_sec", n / median(applyOnly), "members/s")
    report.add("ingest_inflated_bytes_per_member", Double(inflatedBytes) / n, "bytes")
    report.add("ingest_compressed_bytes_per_member", Double(compressedBytes) / n, "bytes")
}

/// The baseline's own plain Codable model of a GUILD_MEMBERS_CHUNK dispatch.
struct BaselineEnvelope: Codable {
    var op: Int
    var s: Int?
    var t: String?
    var d: BaselineChunk
}

struct BaselineChunk: Codable {
    var guild_id: String
    var members: [BaselineMember]
    var chunk_index: Int
    var chunk_count: Int
    var nonce: String?
}

struct BaselineMember: Codable {
    var user: BaselineUser
    var nick: String?
    var roles: [String]
    var joined_at: String?
    var pending: Bool?
    var flags: Int?
}

struct BaselineUser: Codable {
    var id: String
    var username: String
    var global_name: String?
    var discriminator: String?
}
