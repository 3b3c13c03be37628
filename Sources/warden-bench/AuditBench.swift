import AuthModels
import AuthStore
import DiscordFake
import DiscordModels
import Foundation
import GuildState
import Logging
import RoleSync
import WardenService

/// A `GuildWriter` that counts the writes it is asked to make and makes none.
actor CountingWriter: GuildWriter {
    private(set) var writes = 0

    func addRole(_ role: Snowflake, to user: Snowflake, reason: String) async throws { writes += 1 }
    func removeRole(_ role: Snowflake, from user: Snowflake, reason: String) async throws { writes += 1 }
    func modifyMember(_ user: Snowflake, roles: [Snowflake]?, nick: String?, reason: String) async throws { writes += 1 }
    func kick(_ user: Snowflake, reason: String) async throws { writes += 1 }
    func createRole(named name: String, reason: String) async throws -> Role {
        writes += 1
        return Role(id: Snowflake(UInt64(9_000_000 + writes)), name: name, position: 1)
    }
}

/// An Auth-linked guild: 45 group roles, the "Member" state role, the bot's managed role on top, a
/// booster role; every Auth user linked to one member holding exactly the roles Auth wants.
struct LinkedGuild {
    static let groupCount = 45
    let roles: [Role]
    let users: [AuthUserImport]
    let members: [GuildMember]
    let botMember: GuildMember
    let memberRole: Snowflake

    init(count: Int) {
        var roles = [Role(id: SyntheticGuild.guildID, name: "@everyone", position: 0)]
        let memberRole = SyntheticGuild.roleID(0)
        roles.append(Role(id: memberRole, name: "Member", position: 1))
        for g in 0..<Self.groupCount {
            roles.append(Role(id: SyntheticGuild.roleID(1 + g), name: "Group \(g)", position: 2 + g))
        }
        let booster = Role(id: SyntheticGuild.roleID(48), name: "Server Booster", position: 50, managed: true,
                           tags: RoleTags(premiumSubscriber: true))
        let wardenRole = Role(id: SyntheticGuild.roleID(49), name: "Warden", position: 60, permissions: .wardenRequired,
                              managed: true, tags: RoleTags(botID: SyntheticGuild.botID))
        roles += [booster, wardenRole]

        let synthetic = SyntheticGuild.members(count: count, seed: 99)
        var random = SeededGenerator(seed: 5)
        var users: [AuthUserImport] = []
        var members: [GuildMember] = []
        users.reserveCapacity(count)
        members.reserveCapacity(count)
        for (i, m) in synthetic.enumerated() {
            var groups: [Int] = []
            let groupTotal = Int(random.next() % 7)
            while groups.count < groupTotal {
                let g = Int(random.next() % UInt64(Self.groupCount))
                if !groups.contains(g) { groups.append(g) }
            }
            let id = Int64(i + 1)
            let user = AuthUser(id: id, username: m.username, state: "Member", groups: groups.map { "Group \($0)" },
                                mainCharacter: MainCharacter(characterID: 90_000_000 + id, characterName: m.globalName ?? m.username,
                                                             corporationID: 98_000_001, corporationName: "Wayne Enterprises",
                                                             corporationTicker: "WYE"))
            users.append(AuthUserImport(user: user, discordUID: m.id))
            var roleIDs = [memberRole] + groups.map { SyntheticGuild.roleID(1 + $0) }
            if i % 10 == 0 { roleIDs.append(booster.id) }
            members.append(GuildMember(user: User(id: m.id, username: m.username, globalName: m.globalName), nick: m.nick,
                                       roles: roleIDs, joinedAt: m.joinedAt))
        }
        self.roles = roles
        self.users = users
        self.members = members
        self.memberRole = memberRole
        self.botMember = GuildMember(user: User(id: SyntheticGuild.botID, username: "Warden", bot: true), roles: [wardenRole.id])
    }

    /// `sync_names` with this format: every member's nickname is then checked too.
    static let nicknameConfig = RoleSyncConfig(syncNames: true,
                                               nameFormats: ["Member": try! NameFormat(parsing: "[{corp_ticker}] {character_name}")])

    /// The members, each with the nickname `nicknameConfig` wants for its user.
    func withWantedNicknames() -> [GuildMember] {
        zip(members, users).map { member, linked in
            var copy = member
            copy.nick = LinkedGuild.nicknameConfig.nickname(for: linked.user)
            return copy
        }
    }

    /// The members with every `1/fraction`-th one missing its "Member" role (a manual edit to revert).
    func drifted(every stride: Int) -> (members: [GuildMember], wrong: Int) {
        var wrong = 0
        let drifted = members.enumerated().map { i, member -> GuildMember in
            guard i % stride == 0 else { return member }
            wrong += 1
            var copy = member
            copy.roles.removeAll { $0 == memberRole }
            return copy
        }
        return (drifted, wrong)
    }

    func chunks(_ members: [GuildMember], nonce: String) -> [GuildMembersChunk] {
        let all = members + [botMember]
        let count = (all.count + 999) / 1000
        return (0..<count).map { index in
            GuildMembersChunk(guildID: SyntheticGuild.guildID, members: Array(all[(index * 1000)..<min(all.count, (index + 1) * 1000)]),
                              chunkIndex: index, chunkCount: count, nonce: nonce)
        }
    }
}

let quietLogger = Logger(label: "warden.bench") { _ in SwiftLogNoOpLogHandler() }

/// Builds an enforcer over `store`, fills its cache from `chunks` (the completed fill runs an audit) and waits until idle.
func filledEnforcer(_ guild: LinkedGuild, store: AuthStore, writer: CountingWriter, chunks: [GuildMembersChunk],
                    roleSync: RoleSyncConfig = RoleSyncConfig(),
                    unlinkedMembers: UnlinkedMemberPolicy = .ignore) async throws -> Enforcer<ContinuousClock> {
    let configuration = EnforcerConfiguration(guildID: SyntheticGuild.guildID, roleSync: roleSync,
                                              unlinkedMembers: unlinkedMembers)
    let enforcer = Enforcer(configuration: configuration, store: store,
                            writer: writer, clock: ContinuousClock(), logger: quietLogger)
    try await enforcer.load()
    await enforcer.apply(.ready(Ready(user: User(id: SyntheticGuild.botID, username: "Warden", bot: true),
                                      guilds: [UnavailableGuild(id: SyntheticGuild.guildID, unavailable: true)],
                                      sessionID: "bench", resumeGatewayURL: "wss://127.0.0.1")))
    await enforcer.apply(.guildCreate(SyntheticGuild.guild(roles: guild.roles, memberCount: guild.members.count + 1)))
    await enforcer.beginMemberFill(nonce: "bench")
    for chunk in chunks { await enforcer.apply(.guildMembersChunk(chunk)) }
    await enforcer.idle()
    return enforcer
}

func runAuditBench(count: Int, rounds: Int, report: Report) async throws {
    report.note("audit: building \(count) linked users")
    let guild = LinkedGuild(count: count)
    let store = try AuthStore.inMemory()
    let storeTime = try await measure {
        var start = 0
        while start < guild.users.count {
            let end = min(guild.users.count, start + 5000)
            _ = try await store.upsert(Array(guild.users[start..<end]))
            start = end
        }
    }
    report.note("audit: store filled in \(Int(storeTime * 1000)) ms")

    // In sync: the fill's audit and every later audit must write nothing.
    let writer = CountingWriter()
    let enforcer = try await filledEnforcer(guild, store: store, writer: writer, chunks: guild.chunks(guild.members, nonce: "bench"))
    var times: [Double] = []
    var checked = 0
    for _ in 0..<rounds {
        var result: AuditReport?
        times.append(await measure { result = await enforcer.audit(cause: .audit) })
        checked = result?.checked ?? 0
    }
    await enforcer.idle()
    precondition(checked == count, "the audit checked \(checked) of \(count) members")
    report.add("audit_100k_ms", median(times) * 1000, "ms")
    report.add("audit_100k_rest_requests", Double(await writer.writes), "requests")
    if count != 100_000 { report.note("audit: measured with \(count) members, not 100k (--quick)") }

    // The same audit with `unlinked_members: report`: every member is also looked at as a possibly
    // unlinked one (all are linked here, so none is reported).
    let reportWriter = CountingWriter()
    let reporting = try await filledEnforcer(guild, store: store, writer: reportWriter,
                                             chunks: guild.chunks(guild.members, nonce: "bench"), unlinkedMembers: .report)
    var reportTimes: [Double] = []
    for _ in 0..<rounds { reportTimes.append(await measure { _ = await reporting.audit(cause: .audit) }) }
    report.add("audit_100k_unlinked_report_ms", median(reportTimes) * 1000, "ms")
    if await reportWriter.writes != 0 { report.note("audit: MISMATCH: \(await reportWriter.writes) writes with unlinked_members report") }

    // The same audit with `sync_names` on: every member's nickname is compared as well.
    let nickWriter = CountingWriter()
    let naming = try await filledEnforcer(guild, store: store, writer: nickWriter,
                                          chunks: guild.chunks(guild.withWantedNicknames(), nonce: "bench"),
                                          roleSync: LinkedGuild.nicknameConfig)
    var nickTimes: [Double] = []
    for _ in 0..<rounds { nickTimes.append(await measure { _ = await naming.audit(cause: .audit) }) }
    report.add("audit_100k_sync_names_ms", median(nickTimes) * 1000, "ms")
    if await nickWriter.writes != 0 { report.note("audit: MISMATCH: \(await nickWriter.writes) writes with sync_names") }

    // 1 % drift: the fill's audit must queue exactly the wrong members, one write each.
    let (drifted, wrong) = guild.drifted(every: 100)
    let driftWriter = CountingWriter()
    let driftTime = try await measure {
        _ = try await filledEnforcer(guild, store: store, writer: driftWriter, chunks: guild.chunks(drifted, nonce: "bench"))
    }
    let writes = await driftWriter.writes
    report.add("audit_100k_drift_1pct_rest_requests", Double(writes), "requests")
    report.add("audit_100k_drift_1pct_wrong_members", Double(wrong), "members")
    report.note("audit: drift fill + audit + \(writes) writes until idle in \(Int(driftTime * 1000)) ms")
    if writes != wrong { report.note("audit: MISMATCH: \(writes) writes for \(wrong) wrong members") }
}

/// Wall time of an async body in seconds.
func measure(_ body: () async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    try await body()
    return (ContinuousClock.now - start).inSeconds
}
