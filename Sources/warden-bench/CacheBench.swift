import DiscordModels
import GuildState

/// `cache_bytes_per_member`: resident-set growth per member with `count` members cached in `GuildState`,
/// filled the way the daemon fills it (GUILD_CREATE, then decoded GUILD_MEMBERS_CHUNK payloads).
func runCacheBench(count: Int, report: Report) throws {
    report.note("cache: generating \(count) members")
    let members = SyntheticGuild.members(count: count)
    let payloads = SyntheticGuild.chunkPayloads(members)
    let roles = SyntheticGuild.roles()
    let decoder = GatewayPayloadDecoder()

    Memory.trim()
    let residentBefore = Memory.residentBytes()

    var state = GuildState(guildID: SyntheticGuild.guildID)
    _ = state.apply(.guildCreate(SyntheticGuild.guild(roles: roles, memberCount: count)))
    state.beginMemberFill(nonce: "bench")
    for payload in payloads {
        let message = try payload.withUnsafeBufferPointer { try decoder.decode($0) }
        guard case .dispatch(.guildMembersChunk(let chunk), _) = message else { fatalError("not a chunk") }
        _ = state.apply(chunk: chunk)
    }
    precondition(state.memberCount == count && state.isMemberCacheComplete, "the fill did not complete")

    Memory.trim()
    let residentAfter = Memory.residentBytes()
    let n = Double(count)
    report.add("cache_bytes_per_member", Double(residentAfter - residentBefore) / n, "bytes")
    report.add("cache_member_cache_bytes_per_member", Double(state.memberCacheBytes) / n, "bytes")
    withExtendedLifetime(state) {}
    withExtendedLifetime(payloads) {}
}
