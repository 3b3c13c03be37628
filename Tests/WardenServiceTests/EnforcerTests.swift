import AuthModels
import AuthStore
import Clocks
import DiscordModels
import DiscordREST
import Foundation
import Logging
import GuildState
import RoleSync
import Testing
@testable import WardenService

/// A guild writer that records each write and, like Discord, echoes it back as a gateway event.
actor RecordingWriter: GuildWriter {
    enum Write: Hashable {
        case add(user: Snowflake, role: Snowflake)
        case remove(user: Snowflake, role: Snowflake)
        case modify(user: Snowflake, roles: [Snowflake]?, nick: String?)
        case kick(Snowflake)
        case create(String)
    }

    private(set) var writes: [Write] = []
    private(set) var reasons: [String] = []
    var echo: (@Sendable (GatewayDispatch) async -> Void)?
    var members: [Snowflake: GuildMember] = [:]
    var failNext: DiscordRESTError?
    /// Runs once, inside the next write, after its echo and before its answer (a racing moderator), or
    /// before both (`beforeEcho`: the write has reached Discord, nothing of it has come back yet).
    var duringNextWrite: (@Sendable () async -> Void)?
    var duringNextWriteBeforeEcho = false
    private var nextRoleID: UInt64 = 900
    private var waiters: [(count: Int, id: Int, continuation: CheckedContinuation<Void, Never>)] = []
    let guildID: Snowflake

    init(guildID: Snowflake) { self.guildID = guildID }

    func setEcho(_ echo: @escaping @Sendable (GatewayDispatch) async -> Void) { self.echo = echo }
    func setMember(_ member: GuildMember) { members[member.user!.id] = member }
    func failNextWrite(with error: DiscordRESTError) { failNext = error }
    func setDuringNextWrite(beforeEcho: Bool = false, _ body: @escaping @Sendable () async -> Void) {
        duringNextWrite = body
        duringNextWriteBeforeEcho = beforeEcho
    }

    /// Waits until at least `count` writes were made: resumed by the write itself, or after 60 s at
    /// the latest (a safety net so a broken enforcer fails the test instead of hanging it).
    func waitForWrites(_ count: Int) async {
        if writes.count >= count { return }
        let id = nextWaiter
        nextWaiter += 1
        Task { [weak self] in
            try? await Task.sleep(for: .seconds(60))
            await self?.giveUp(id)
        }
        await withCheckedContinuation { waiters.append((count, id, $0)) }
    }

    private var nextWaiter = 0

    private func giveUp(_ id: Int) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume()
    }

    private func record(_ write: Write, _ reason: String) throws {
        if let error = failNext { failNext = nil; notify(); throw error }
        writes.append(write)
        reasons.append(reason)
    }

    private func notify() {
        let ready = waiters.filter { writes.count >= $0.count }
        waiters.removeAll { writes.count >= $0.count }
        for waiter in ready { waiter.continuation.resume() }
    }

    private func echoMember(_ user: Snowflake, _ change: (inout GuildMember) -> Void) async {
        guard var member = members[user] else { return }
        change(&member)
        members[user] = member
        await echo?(.guildMemberUpdate(GuildMemberEvent(guildID: guildID, member: member)))
    }

    func addRole(_ role: Snowflake, to user: Snowflake, reason: String) async throws {
        try record(.add(user: user, role: role), reason)
        if duringNextWriteBeforeEcho, let race = duringNextWrite { duringNextWrite = nil; await race() }
        await echoMember(user) { if !$0.roles.contains(role) { $0.roles.append(role) } }
        if let race = duringNextWrite { duringNextWrite = nil; await race() }
        notify()
    }

    func removeRole(_ role: Snowflake, from user: Snowflake, reason: String) async throws {
        try record(.remove(user: user, role: role), reason)
        await echoMember(user) { $0.roles.removeAll { $0 == role } }
        notify()
    }

    func modifyMember(_ user: Snowflake, roles: [Snowflake]?, nick: String?, reason: String) async throws {
        try record(.modify(user: user, roles: roles, nick: nick), reason)
        await echoMember(user) { member in
            if let roles { member.roles = roles }
            if let nick { member.nick = nick }
        }
        notify()
    }

    func kick(_ user: Snowflake, reason: String) async throws {
        try record(.kick(user), reason)
        if let member = members.removeValue(forKey: user) {
            await echo?(.guildMemberRemove(GuildMemberRemove(guildID: guildID, user: member.user!)))
        }
        notify()
    }

    func createRole(named name: String, reason: String) async throws -> Role {
        try record(.create(name), reason)
        nextRoleID += 1
        let role = Role(id: Snowflake(nextRoleID), name: name, position: 1)
        if roleEchoesLate {
            // As on Discord: the roles pushed up are updated at once; the create event comes after the answer.
            await echo?(.guildRoleUpdate(GuildRoleEvent(guildID: guildID, role: Role(id: Fixture.alpha.id, name: "Alpha", position: 3))))
            heldEchoes.append(.guildRoleCreate(GuildRoleEvent(guildID: guildID, role: role)))
        } else {
            await echo?(.guildRoleCreate(GuildRoleEvent(guildID: guildID, role: role)))
        }
        notify()
        return role
    }

    /// Role creations answer before their GUILD_ROLE_CREATE is echoed (`releaseRoleEchoes()` sends them).
    var roleEchoesLate = false
    private var heldEchoes: [GatewayDispatch] = []
    func setRoleEchoesLate() { roleEchoesLate = true }
    func releaseRoleEchoes() async {
        let held = heldEchoes
        heldEchoes = []
        for dispatch in held { await echo?(dispatch) }
    }
}

/// Collects alert observations.
final class AlertLog: Sendable {
    private let entries = Locked<[(AlertKind, String, AlertCondition?)]>([])
    func record(_ kind: AlertKind, _ subject: String, _ condition: AlertCondition?) {
        entries.withLock { $0.append((kind, subject, condition)) }
    }
    func isOpen(_ kind: AlertKind, subject: String = "") -> Bool {
        entries.withLock { list in list.last(where: { $0.0 == kind && $0.1 == subject }).map { $0.2 != nil } ?? false }
    }
}

/// A small guild: owner 1, bot 2 (role "Warden" at the top), roles Member, Alpha, Bravo; a managed
/// Booster role; an "Officers" role above the bot.
struct Fixture {
    static let guildID: Snowflake = 100
    static let owner: Snowflake = 1
    static let bot: Snowflake = 2
    static let everyone = Role(id: guildID, name: "@everyone", position: 0, permissions: [])
    static let officers = Role(id: 201, name: "Officers", position: 20)
    static let wardenRole = Role(id: 202, name: "Warden", position: 10, permissions: .wardenRequired, managed: true,
                                 tags: RoleTags(botID: bot))
    static let member = Role(id: 203, name: "Member", position: 3)
    static let alpha = Role(id: 204, name: "Alpha", position: 2)
    static let bravo = Role(id: 205, name: "Bravo", position: 2)
    static let booster = Role(id: 206, name: "Server Booster", position: 4, managed: true, tags: RoleTags(premiumSubscriber: true))

    static func user(_ id: Int64, groups: [String] = ["Alpha"], state: String = "Member", access: Bool = true) -> AuthUser {
        AuthUser(id: id, username: "user\(id)", state: state, groups: groups, canAccessDiscord: access,
                 mainCharacter: MainCharacter(characterID: 9000 + id, characterName: "Pilot \(id)", corporationID: 1,
                                              corporationName: "Wayne Enterprises", corporationTicker: "WYE"))
    }

    static func member(_ id: Snowflake, roles: [Snowflake], nick: String? = nil) -> GuildMember {
        GuildMember(user: User(id: id, username: "m\(id)"), nick: nick, roles: roles)
    }
}

/// An enforcer over an in-memory store, a recording writer that echoes, and a test clock.
struct Harness {
    let enforcer: Enforcer<TestClock<Duration>>
    let writer: RecordingWriter
    let store: AuthStore
    let clock: TestClock<Duration>
    let alerts: AlertLog
    /// Writes that failed after their retries, as the `writeFailed` hook counted them.
    let failedWrites: TestBox<Int>

    static func make(enforce: Bool = true, syncNames: Bool = false, fightLimit: Int = 5,
                     unlinkedMembers: UnlinkedMemberPolicy = .ignore, roleEchoesLate: Bool = false,
                     failFirstWrite: DiscordRESTError? = nil, logLines: TestBox<[String]>? = nil,
                     botPermissions: Permissions = .wardenRequired, members: [GuildMember], users: [(AuthUser, Snowflake?)]) async throws -> Harness {
        let store = try AuthStore.inMemory()
        for (user, uid) in users {
            _ = try await store.upsert(AuthUserImport(user: user, discordUID: uid))
        }
        let clock = TestClock<Duration>()
        let writer = RecordingWriter(guildID: Fixture.guildID)
        let alerts = AlertLog()
        let failedWrites = TestBox(0)
        let configuration = EnforcerConfiguration(guildID: Fixture.guildID, enforce: enforce,
                                                  roleSync: RoleSyncConfig(syncNames: syncNames),
                                                  unlinkedMembers: unlinkedMembers, fightLimit: fightLimit)
        let enforcer = Enforcer(configuration: configuration, store: store, writer: writer, clock: clock,
                                hooks: EnforcerHooks(alert: { alerts.record($0, $1, $2) },
                                                     writeFailed: { failedWrites.withLock { $0 += 1 } }),
                                logger: logLines.map { lines in Logger(label: "test") { _ in RecordingLogHandler(lines: lines) } }
                                    ?? Logger(label: "warden.enforcer"))
        await writer.setEcho { dispatch in await enforcer.apply(dispatch) }
        if roleEchoesLate { await writer.setRoleEchoesLate() }
        if let failFirstWrite { await writer.failNextWrite(with: failFirstWrite) }
        try await enforcer.load()
        let botMember = Fixture.member(Fixture.bot, roles: [Fixture.wardenRole.id])
        for member in members + [botMember] { await writer.setMember(member) }

        await enforcer.apply(.ready(Ready(user: User(id: Fixture.bot, username: "Warden", discriminator: "1234", bot: true),
                                          guilds: [UnavailableGuild(id: Fixture.guildID, unavailable: true)],
                                          sessionID: "s", resumeGatewayURL: "ws://127.0.0.1")))
        var wardenRole = Fixture.wardenRole
        wardenRole.permissions = botPermissions
        let guild = Guild(id: Fixture.guildID, name: "Test", ownerID: Fixture.owner,
                          roles: [Fixture.everyone, Fixture.officers, wardenRole, Fixture.member, Fixture.alpha,
                                  Fixture.bravo, Fixture.booster],
                          members: [botMember], memberCount: members.count + 1)
        await enforcer.apply(.guildCreate(guild))
        await enforcer.beginMemberFill(nonce: "n")
        await enforcer.apply(.guildMembersChunk(GuildMembersChunk(guildID: Fixture.guildID, members: members + [botMember],
                                                                  chunkIndex: 0, chunkCount: 1, nonce: "n")))
        return Harness(enforcer: enforcer, writer: writer, store: store, clock: clock, alerts: alerts, failedWrites: failedWrites)
    }

    /// Waits until the enforcer has nothing queued or in flight.
    func settled() async { await enforcer.idle() }
}

@Suite(.timeLimit(.minutes(3))) struct EnforcerTests {
    @Test func theAuditAfterTheFillFixesAWrongMemberOnceAndItsEchoCausesNoFurtherWrite() async throws {
        let h = try await Harness.make(members: [Fixture.member(10, roles: [Fixture.member.id])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), 10)])
        await h.writer.waitForWrites(1)
        await h.settled()
        #expect(await h.writer.writes == [.add(user: 10, role: Fixture.alpha.id)])
        #expect(await h.writer.reasons.first?.hasPrefix("Auth: audit") == true)
        #expect(await h.enforcer.withGuild { $0.member(10)?.roleIDs.sorted() } == [Fixture.member.id, Fixture.alpha.id].sorted())
    }

    @Test func aManualEditIsRevertedAtOnceWithAReasonThatSaysSo() async throws {
        let h = try await Harness.make(members: [Fixture.member(10, roles: [Fixture.member.id, Fixture.alpha.id])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), 10)])
        await h.settled()
        #expect(await h.writer.writes.isEmpty, "an in-sync member gets no write")

        // A moderator removes Alpha and adds Bravo by hand.
        await h.writer.setMember(Fixture.member(10, roles: [Fixture.member.id, Fixture.bravo.id]))
        await h.enforcer.apply(.guildMemberUpdate(GuildMemberEvent(guildID: Fixture.guildID,
            member: Fixture.member(10, roles: [Fixture.member.id, Fixture.bravo.id]))))
        await h.writer.waitForWrites(1)
        await h.settled()
        let writes = await h.writer.writes
        #expect(writes == [.modify(user: 10, roles: [Fixture.member.id, Fixture.alpha.id], nick: nil)]
            || writes == [.modify(user: 10, roles: [Fixture.alpha.id, Fixture.member.id], nick: nil)])
        #expect(await h.writer.reasons.first?.hasPrefix("Auth: reverting manual role edit") == true)
    }

    @Test func managedRolesStayInAPatch() async throws {
        let h = try await Harness.make(members: [Fixture.member(10, roles: [Fixture.booster.id, Fixture.bravo.id])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), 10)])
        await h.writer.waitForWrites(1)
        await h.settled()
        guard case .modify(_, let roles?, _) = await h.writer.writes.first else { Issue.record("expected a PATCH"); return }
        #expect(Set(roles) == [Fixture.booster.id, Fixture.member.id, Fixture.alpha.id])
    }

    @Test func observeOnlyWritesNothingAndListsThePlannedChange() async throws {
        let h = try await Harness.make(enforce: false, members: [Fixture.member(10, roles: [])],
                                       users: [(Fixture.user(42, groups: ["Alpha", "Charlie"]), 10)])
        await h.settled()
        #expect(await h.writer.writes.isEmpty)
        let status = await h.enforcer.status()
        #expect(status.observed.count == 1)
        #expect(status.observed.first?.userID == 42)
        #expect(status.observed.first?.name == "m10", "the member by the name Discord shows")
        #expect(status.observed.first?.change.contains("Alpha") == true)
        #expect(status.observed.first?.change.contains("create roles \"Charlie\"") == true)
    }

    @Test func observeOnlyLogsARoleItWouldCreateEvenWhenThatIsTheWholeChange() async throws {
        let lines = TestBox<[String]>([])
        let h = try await Harness.make(enforce: false, logLines: lines, members: [Fixture.member(10, roles: [Fixture.member.id])],
                                       users: [(Fixture.user(42, groups: ["Charlie"]), 10)])
        await h.settled()
        #expect(await h.writer.writes.isEmpty)
        #expect(await h.enforcer.status().observed.first?.change.contains("create roles \"Charlie\"") == true)
        let planned = lines.withLock { $0 }.filter { $0.contains("observe-only: would change member") }
        #expect(planned.count == 1)
        #expect(planned.first?.contains("Charlie") == true)
    }

    @Test func theOwnerIsSkippedWithItsReason() async throws {
        let h = try await Harness.make(members: [Fixture.member(Fixture.owner, roles: [])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), Fixture.owner)])
        await h.settled()
        #expect(await h.writer.writes.isEmpty)
        #expect(await h.enforcer.status().skipped.map(\.reason) == ["owner"])
    }

    @Test func aUserWithoutAccessIsKickedUnlinkedAndNotified() async throws {
        let h = try await Harness.make(members: [Fixture.member(10, roles: [Fixture.member.id])],
                                       users: [(Fixture.user(42, access: false), 10)])
        await h.writer.waitForWrites(1)
        await h.settled()
        #expect(await h.writer.writes == [.kick(10)])
        #expect(try await h.store.discordLink(userID: 42) == nil)
        #expect(try await h.store.notifications(userID: 42).map(\.kind) == [.accountDisabled])
    }

    @Test func aLinkedMemberWhoLeavesIsUnlinkedAndNotified() async throws {
        let h = try await Harness.make(members: [Fixture.member(10, roles: [Fixture.member.id, Fixture.alpha.id])],
                                       users: [(Fixture.user(42), 10)])
        await h.settled()
        await h.enforcer.apply(.guildMemberRemove(GuildMemberRemove(guildID: Fixture.guildID, user: User(id: 10, username: "m10"))))
        #expect(try await h.store.discordLink(userID: 42) == nil)
        #expect(try await h.store.notifications(userID: 42).map(\.kind) == [.leftGuild])
        #expect(try await h.store.user(id: 42) != nil, "the Auth record stays")
    }

    @Test func aMissingRoleIsCreatedOnceEvenWhenTwoMembersWantIt() async throws {
        let h = try await Harness.make(members: [Fixture.member(10, roles: [Fixture.member.id]),
                                                 Fixture.member(11, roles: [Fixture.member.id])],
                                       users: [(Fixture.user(42, groups: ["Charlie"]), 10), (Fixture.user(43, groups: ["Charlie"]), 11)])
        await h.writer.waitForWrites(3)
        await h.settled()
        let writes = await h.writer.writes
        #expect(writes.filter { $0 == .create("Charlie") }.count == 1)
        #expect(writes.contains(.add(user: 10, role: 901)))
        #expect(writes.contains(.add(user: 11, role: 901)))
    }

    @Test func aRoleIsNotCreatedTwiceWhileItsCreateEventIsOnItsWay() async throws {
        let h = try await Harness.make(roleEchoesLate: true,
                                       members: [Fixture.member(10, roles: [Fixture.member.id]),
                                                 Fixture.member(11, roles: [Fixture.member.id])],
                                       users: [(Fixture.user(42, groups: ["Charlie"]), 10), (Fixture.user(43, groups: ["Charlie"]), 11)])
        await h.writer.waitForWrites(1)
        await h.settled()
        // The role update the creation caused ran an audit that planned both members again before the
        // create event arrived: still one creation.
        #expect(await h.writer.writes == [.create("Charlie")])

        await h.writer.releaseRoleEchoes()
        await h.writer.waitForWrites(3)
        await h.settled()
        let writes = await h.writer.writes
        #expect(writes.filter { $0 == .create("Charlie") }.count == 1)
        #expect(writes.contains(.add(user: 10, role: 901)))
        #expect(writes.contains(.add(user: 11, role: 901)))
    }

    @Test func aFailedRoleCreationIsRetriedAtTheNextAudit() async throws {
        let h = try await Harness.make(failFirstWrite: .http(DiscordHTTPError(route: "POST", status: 500, body: nil)),
                                       members: [Fixture.member(10, roles: [Fixture.member.id])],
                                       users: [(Fixture.user(42, groups: ["Charlie"]), 10)])
        await h.settled()
        #expect(await h.writer.writes.isEmpty, "the creation failed")

        _ = await h.enforcer.audit(cause: .audit)
        await h.writer.waitForWrites(2)
        await h.settled()
        #expect(await h.writer.writes == [.create("Charlie"), .add(user: 10, role: 901)])
    }

    @Test func nothingIsWrittenWhileTheGuildIsUnavailableAndTheFillAfterItsReturnFixesTheMember() async throws {
        let h = try await Harness.make(members: [Fixture.member(10, roles: [Fixture.member.id, Fixture.alpha.id])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), 10)])
        await h.settled()
        #expect(await h.writer.writes.isEmpty)
        await h.enforcer.apply(.guildDelete(UnavailableGuild(id: Fixture.guildID, unavailable: true)))
        // A moderator strips Alpha during the outage: Discord would refuse the correction, so none is sent.
        let stripped = Fixture.member(10, roles: [Fixture.member.id])
        await h.writer.setMember(stripped)
        await h.enforcer.apply(.guildMemberUpdate(GuildMemberEvent(guildID: Fixture.guildID, member: stripped)))
        await h.settled()
        #expect(await h.writer.writes.isEmpty)
        // The guild is back; once its member list is filled again the audit corrects the member.
        let botMember = Fixture.member(Fixture.bot, roles: [Fixture.wardenRole.id])
        await h.enforcer.apply(.guildCreate(Guild(id: Fixture.guildID, name: "Test", ownerID: Fixture.owner,
                                                  roles: [Fixture.everyone, Fixture.officers, Fixture.wardenRole, Fixture.member,
                                                          Fixture.alpha, Fixture.bravo, Fixture.booster],
                                                  members: [botMember], memberCount: 2)))
        await h.enforcer.beginMemberFill(nonce: "again")
        await h.enforcer.apply(.guildMembersChunk(GuildMembersChunk(guildID: Fixture.guildID, members: [stripped, botMember],
                                                                    chunkIndex: 0, chunkCount: 1, nonce: "again")))
        await h.writer.waitForWrites(1)
        await h.settled()
        #expect(await h.writer.writes == [.add(user: 10, role: Fixture.alpha.id)])
    }

    @Test func aFightStopsAfterTheLimitRaisesAnAlertAndAnAuthChangeResumesIt() async throws {
        let h = try await Harness.make(fightLimit: 2, members: [Fixture.member(10, roles: [Fixture.member.id, Fixture.alpha.id])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), 10)])
        await h.settled()
        let stripped = Fixture.member(10, roles: [Fixture.member.id])
        for round in 1...3 {
            await h.writer.setMember(stripped)
            await h.enforcer.apply(.guildMemberUpdate(GuildMemberEvent(guildID: Fixture.guildID, member: stripped)))
            if round <= 2 { await h.writer.waitForWrites(round) }
            await h.settled()
        }
        #expect(await h.writer.writes.count == 2, "two corrections, the third undo is left alone")
        #expect(h.alerts.isOpen(.roleFight, subject: "10"))
        #expect(await h.enforcer.status().skipped.map(\.reason) == ["role_fight"])

        // Auth changes the user: the fight ends and the member is enforced again.
        _ = try await h.store.upsert(Fixture.user(42, groups: ["Alpha", "Bravo"]))
        await h.enforcer.handle(.userChanged(id: 42, revision: 99))
        await h.writer.waitForWrites(3)
        await h.settled()
        #expect(!h.alerts.isOpen(.roleFight, subject: "10"))
        #expect(await h.writer.writes.count == 3)
    }

    @Test func aPausedFightIsNotWrittenByAnAuditEither() async throws {
        let h = try await Harness.make(fightLimit: 1, members: [Fixture.member(10, roles: [Fixture.member.id, Fixture.alpha.id])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), 10)])
        await h.settled()
        let stripped = Fixture.member(10, roles: [Fixture.member.id])
        for round in 1...2 {
            await h.writer.setMember(stripped)
            await h.enforcer.apply(.guildMemberUpdate(GuildMemberEvent(guildID: Fixture.guildID, member: stripped)))
            if round == 1 { await h.writer.waitForWrites(1) }
            await h.settled()
        }
        #expect(h.alerts.isOpen(.roleFight, subject: "10"))

        // A full audit (periodic, a role change, a bulk task) during the pause leaves the member alone.
        let report = await h.enforcer.audit(cause: .task)
        await h.settled()
        #expect(report.wrong == 1)
        #expect(await h.writer.writes.count == 1, "still only the one correction before the fight")
        #expect(await h.enforcer.status().skipped.map(\.reason) == ["role_fight"])
    }

    @Test func aPausedFightResumesAfterAnHour() async throws {
        let h = try await Harness.make(fightLimit: 1, members: [Fixture.member(10, roles: [Fixture.member.id, Fixture.alpha.id])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), 10)])
        await h.settled()
        let stripped = Fixture.member(10, roles: [Fixture.member.id])
        for round in 1...2 {
            await h.writer.setMember(stripped)
            await h.enforcer.apply(.guildMemberUpdate(GuildMemberEvent(guildID: Fixture.guildID, member: stripped)))
            if round == 1 { await h.writer.waitForWrites(1) }
            await h.settled()
        }
        #expect(await h.writer.writes.count == 1)
        await h.clock.advance(by: .seconds(3601))
        await h.enforcer.housekeeping()
        await h.writer.waitForWrites(2)
        #expect(!h.alerts.isOpen(.roleFight, subject: "10"))
    }

    @Test func aFailedWriteIsRecordedAndRetriedByTheNextAudit() async throws {
        let h = try await Harness.make(members: [Fixture.member(10, roles: [Fixture.member.id, Fixture.alpha.id])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), 10)])
        await h.settled()
        await h.writer.failNextWrite(with: .http(DiscordHTTPError(route: "PUT", status: 403,
            body: DiscordErrorBody(code: .twoFactorRequired, message: "Two factor is required for this operation"))))
        let stripped = Fixture.member(10, roles: [Fixture.member.id])
        await h.writer.setMember(stripped)
        await h.enforcer.apply(.guildMemberUpdate(GuildMemberEvent(guildID: Fixture.guildID, member: stripped)))
        await h.settled()
        #expect(await h.writer.writes.isEmpty)
        #expect(h.alerts.isOpen(.twoFactorRequired))
        #expect(await h.enforcer.status().failed.count == 1)
        #expect(h.failedWrites.current == 1, "the failure is counted (warden_member_write_failures_total)")

        let report = await h.enforcer.audit(cause: .audit)
        #expect(report.wrong == 1)
        await h.writer.waitForWrites(1)
        #expect(await h.writer.writes == [.add(user: 10, role: Fixture.alpha.id)])
        await h.settled()
        #expect(!h.alerts.isOpen(.twoFactorRequired), "a write Discord accepts again resolves the alert")
    }

    @Test func theGuildDroppingIts2FARequirementResolvesTheAlertAndRetriesTheRefusedMember() async throws {
        let h = try await Harness.make(members: [Fixture.member(10, roles: [Fixture.member.id, Fixture.alpha.id])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), 10)])
        await h.settled()
        func guild(_ mfa: MFALevel) -> Guild {
            Guild(id: Fixture.guildID, name: "Test", ownerID: Fixture.owner, mfaLevel: mfa,
                  roles: [Fixture.everyone, Fixture.officers, Fixture.wardenRole, Fixture.member, Fixture.alpha,
                          Fixture.bravo, Fixture.booster])
        }
        await h.enforcer.apply(.guildUpdate(guild(.elevated)))
        await h.writer.failNextWrite(with: .http(DiscordHTTPError(route: "PUT", status: 403,
            body: DiscordErrorBody(code: .twoFactorRequired, message: "Two factor is required for this operation"))))
        let stripped = Fixture.member(10, roles: [Fixture.member.id])
        await h.writer.setMember(stripped)
        await h.enforcer.apply(.guildMemberUpdate(GuildMemberEvent(guildID: Fixture.guildID, member: stripped)))
        await h.settled()
        #expect(h.alerts.isOpen(.twoFactorRequired))

        await h.enforcer.apply(.guildUpdate(guild(.none)))
        #expect(!h.alerts.isOpen(.twoFactorRequired))
        await h.writer.waitForWrites(1)
        #expect(await h.writer.writes == [.add(user: 10, role: Fixture.alpha.id)], "the audit retried the refused member")
    }

    @Test func theBotLosingTheTopAndAMissingPermissionRaiseAlerts() async throws {
        let h = try await Harness.make(members: [], users: [])
        #expect(h.alerts.isOpen(.botRoleNotTop), "Officers ranks above the bot's role")
        #expect(!h.alerts.isOpen(.missingPermissions))
        var weaker = Fixture.wardenRole
        weaker.permissions = [.manageRoles]
        await h.enforcer.apply(.guildRoleUpdate(GuildRoleEvent(guildID: Fixture.guildID, role: weaker)))
        #expect(h.alerts.isOpen(.missingPermissions))
        var top = Fixture.wardenRole
        top.position = 30
        await h.enforcer.apply(.guildRoleUpdate(GuildRoleEvent(guildID: Fixture.guildID, role: top)))
        #expect(!h.alerts.isOpen(.botRoleNotTop))
        #expect(!h.alerts.isOpen(.missingPermissions))
    }

    @Test func anEditThatRacesTheAnswerOfAWriteIsStillCorrected() async throws {
        let h = try await Harness.make(members: [Fixture.member(10, roles: [Fixture.member.id, Fixture.alpha.id])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), 10)])
        await h.settled()
        let stripped = Fixture.member(10, roles: [Fixture.member.id])
        // While the correction is on the wire, its echo arrives and a moderator strips the role again.
        await h.writer.setDuringNextWrite { [writer = h.writer, enforcer = h.enforcer] in
            await writer.setMember(stripped)
            await enforcer.apply(.guildMemberUpdate(GuildMemberEvent(guildID: Fixture.guildID, member: stripped)))
        }
        await h.writer.setMember(stripped)
        await h.enforcer.apply(.guildMemberUpdate(GuildMemberEvent(guildID: Fixture.guildID, member: stripped)))
        await h.writer.waitForWrites(2)
        await h.settled()
        #expect(await h.writer.writes == [.add(user: 10, role: Fixture.alpha.id), .add(user: 10, role: Fixture.alpha.id)])
    }

    @Test func aTaskThatFindsAMemberMidCorrectionCountsItsOwnCheckNotTheWriteInFlight() async throws {
        let h = try await Harness.make(members: [Fixture.member(10, roles: [Fixture.member.id, Fixture.alpha.id])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), 10)])
        await h.settled()
        // A moderator strips Alpha. While Warden's revert is at Discord (neither its answer nor its echo is
        // back), a bulk task audits: the cache still shows the edit, so the member looks wrong.
        let outcomes = TestBox<[SettleOutcome]>([])
        let report = TestBox<AuditReport?>(nil)
        await h.writer.setDuringNextWrite(beforeEcho: true) { [enforcer = h.enforcer] in
            let audit = await enforcer.audit(cause: .task) { _, outcome in outcomes.withLock { $0.append(outcome) } }
            report.withLock { $0 = audit }
        }
        let stripped = Fixture.member(10, roles: [Fixture.member.id])
        await h.writer.setMember(stripped)
        await h.enforcer.apply(.guildMemberUpdate(GuildMemberEvent(guildID: Fixture.guildID, member: stripped)))
        await h.settled()
        #expect(report.current?.wrong == 1)
        #expect(await h.writer.writes == [.add(user: 10, role: Fixture.alpha.id)], "only the revert was written")
        // The task's check is the re-check after the revert, which finds the member right: the task wrote
        // nothing, and must not count the revert (it used to get the revert's `.written`).
        #expect(outcomes.current == [.inSync])
    }

    @Test func underReportAnEditGivingAnUnlinkedMemberAnAuthRoleIsListedAtOnce() async throws {
        let h = try await Harness.make(unlinkedMembers: .report, members: [Fixture.member(10, roles: [Fixture.bravo.id])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), nil)])
        await h.settled()
        #expect(await h.enforcer.status().skipped.isEmpty)

        // A moderator gives the unlinked member Alpha (an Auth group): listed without waiting for an audit.
        let edited = Fixture.member(10, roles: [Fixture.bravo.id, Fixture.alpha.id])
        await h.writer.setMember(edited)
        await h.enforcer.apply(.guildMemberUpdate(GuildMemberEvent(guildID: Fixture.guildID, member: edited)))
        await h.settled()
        #expect(await h.enforcer.status().skipped == [SkippedMember(userID: nil, discordUID: 10, name: "m10", reason: "unlinked_member")],
                "listed with the name Discord shows")
        #expect(await h.writer.writes.isEmpty, "report never writes")

        // The role is taken away again: no longer listed.
        let back = Fixture.member(10, roles: [Fixture.bravo.id])
        await h.writer.setMember(back)
        await h.enforcer.apply(.guildMemberUpdate(GuildMemberEvent(guildID: Fixture.guildID, member: back)))
        await h.settled()
        #expect(await h.enforcer.status().skipped.isEmpty)
    }

    @Test func unlinkedMembersAreLeftAloneByDefault() async throws {
        let h = try await Harness.make(members: [Fixture.member(10, roles: [Fixture.alpha.id])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), nil)])
        await h.settled()
        #expect(await h.writer.writes.isEmpty)
    }
}

@Suite(.timeLimit(.minutes(3))) struct EnforcerIdleTests {
    /// A writer whose writes never answer (a hung request).
    actor HangingWriter: GuildWriter {
        func addRole(_ role: Snowflake, to user: Snowflake, reason: String) async throws { try await hang() }
        func removeRole(_ role: Snowflake, from user: Snowflake, reason: String) async throws { try await hang() }
        func modifyMember(_ user: Snowflake, roles: [Snowflake]?, nick: String?, reason: String) async throws { try await hang() }
        func kick(_ user: Snowflake, reason: String) async throws { try await hang() }
        func createRole(named name: String, reason: String) async throws -> Role { try await hang(); throw CancellationError() }
        private func hang() async throws { try await Task.sleep(for: .seconds(3600)) }
    }

    /// A writer whose writes wait until `open()`.
    actor GatedWriter: GuildWriter {
        private var isOpen = false
        private var waiting: [CheckedContinuation<Void, Never>] = []
        func open() { isOpen = true; for waiter in waiting { waiter.resume() }; waiting = [] }
        private func gate() async { if !isOpen { await withCheckedContinuation { waiting.append($0) } } }
        func addRole(_ role: Snowflake, to user: Snowflake, reason: String) async throws { await gate() }
        func removeRole(_ role: Snowflake, from user: Snowflake, reason: String) async throws { await gate() }
        func modifyMember(_ user: Snowflake, roles: [Snowflake]?, nick: String?, reason: String) async throws { await gate() }
        func kick(_ user: Snowflake, reason: String) async throws { await gate() }
        func createRole(named name: String, reason: String) async throws -> Role { await gate(); throw CancellationError() }
    }

    @Test func afterStopIdleReturnsAsSoonAsTheWriteInFlightFinishes() async throws {
        let store = try AuthStore.inMemory()
        _ = try await store.upsert(AuthUserImport(user: Fixture.user(42, groups: ["Alpha"]), discordUID: 10))
        let writer = GatedWriter()
        let enforcer = Enforcer(configuration: EnforcerConfiguration(guildID: Fixture.guildID), store: store,
                                writer: writer, clock: TestClock<Duration>())
        try await enforcer.load()
        let member = Fixture.member(10, roles: [Fixture.member.id])
        let bot = Fixture.member(Fixture.bot, roles: [Fixture.wardenRole.id])
        await enforcer.apply(.ready(Ready(user: User(id: Fixture.bot, username: "Warden", bot: true), guilds: [],
                                          sessionID: "s", resumeGatewayURL: "ws://127.0.0.1")))
        await enforcer.apply(.guildCreate(Guild(id: Fixture.guildID, name: "T", ownerID: Fixture.owner,
                                                roles: [Fixture.everyone, Fixture.wardenRole, Fixture.member, Fixture.alpha],
                                                members: [bot])))
        await enforcer.beginMemberFill(nonce: "n")
        await enforcer.apply(.guildMembersChunk(GuildMembersChunk(guildID: Fixture.guildID, members: [member, bot],
                                                                  chunkIndex: 0, chunkCount: 1, nonce: "n")))
        #expect(await enforcer.pendingWrites == 1, "the write is in flight")

        // Shutdown: stop taking work, then wait for the write in flight, which finishes now.
        await enforcer.stop()
        let finished = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { await enforcer.idle(); return true }
            group.addTask { try await Task.sleep(for: .seconds(60)); return false }
            await writer.open()
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
        #expect(finished, "idle() returned when the write finished, not at the caller's deadline")
        #expect(await enforcer.pendingWrites == 0)
    }

    @Test func waitingForIdleCanBeBoundedWhileAWriteHangs() async throws {
        let store = try AuthStore.inMemory()
        _ = try await store.upsert(AuthUserImport(user: Fixture.user(42, groups: ["Alpha"]), discordUID: 10))
        let enforcer = Enforcer(configuration: EnforcerConfiguration(guildID: Fixture.guildID), store: store,
                                writer: HangingWriter(), clock: TestClock<Duration>())
        try await enforcer.load()
        let member = Fixture.member(10, roles: [Fixture.member.id])
        let bot = Fixture.member(Fixture.bot, roles: [Fixture.wardenRole.id])
        await enforcer.apply(.ready(Ready(user: User(id: Fixture.bot, username: "Warden", bot: true), guilds: [],
                                          sessionID: "s", resumeGatewayURL: "ws://127.0.0.1")))
        await enforcer.apply(.guildCreate(Guild(id: Fixture.guildID, name: "T", ownerID: Fixture.owner,
                                                roles: [Fixture.everyone, Fixture.wardenRole, Fixture.member, Fixture.alpha],
                                                members: [bot])))
        await enforcer.beginMemberFill(nonce: "n")
        await enforcer.apply(.guildMembersChunk(GuildMembersChunk(guildID: Fixture.guildID, members: [member, bot],
                                                                  chunkIndex: 0, chunkCount: 1, nonce: "n")))
        #expect(await enforcer.pendingWrites == 1, "the write hangs")
        let waiter = Task { await enforcer.idle() }
        waiter.cancel()
        await waiter.value  // returns although the write still hangs
        #expect(await enforcer.pendingWrites == 1)
    }
}

/// A full audit checks each member against Auth's current record and links (the per-user wishes it
/// reads are rebuilt when a record or link changes, never stale).
@Suite(.timeLimit(.minutes(3))) struct AuditFreshnessTests {
    @Test func theAuditFollowsAuthsRecordChangesLinksAndDeletions() async throws {
        let h = try await Harness.make(enforce: false,
                                       members: [Fixture.member(10, roles: [Fixture.member.id, Fixture.alpha.id]),
                                                 Fixture.member(11, roles: [Fixture.member.id, Fixture.alpha.id]),
                                                 Fixture.member(12, roles: [Fixture.member.id, Fixture.bravo.id])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), 10), (Fixture.user(43, groups: ["Alpha"]), 11),
                                               (Fixture.user(44, groups: ["Bravo"]), nil)])
        await h.settled()
        #expect(await h.enforcer.audit(cause: .audit) == AuditReport(checked: 2, wrong: 0, unlinkedWithAuthRoles: 0))

        // Auth moves user 42 from Alpha to Bravo: the member is wrong now.
        _ = try await h.store.upsert(Fixture.user(42, groups: ["Bravo"]))
        await h.enforcer.handle(.userChanged(id: 42, revision: 2))
        await h.settled()
        #expect(await h.enforcer.audit(cause: .audit) == AuditReport(checked: 2, wrong: 1, unlinkedWithAuthRoles: 0))

        // And back: in sync again.
        _ = try await h.store.upsert(Fixture.user(42, groups: ["Alpha"]))
        await h.enforcer.handle(.userChanged(id: 42, revision: 3))
        await h.settled()
        #expect(await h.enforcer.audit(cause: .audit) == AuditReport(checked: 2, wrong: 0, unlinkedWithAuthRoles: 0))

        // A new link is checked; an unlinked member and a deleted user's member no longer are.
        await h.enforcer.handle(.linked(userID: 44, uid: 12))
        await h.settled()
        #expect(await h.enforcer.audit(cause: .audit) == AuditReport(checked: 3, wrong: 0, unlinkedWithAuthRoles: 0))
        await h.enforcer.handle(.unlinked(userID: 43, uid: 11))
        #expect(await h.enforcer.audit(cause: .audit) == AuditReport(checked: 2, wrong: 0, unlinkedWithAuthRoles: 0))
        _ = try await h.store.upsert(Fixture.user(44, groups: ["Alpha"]))
        await h.enforcer.handle(.userChanged(id: 44, revision: 4))
        await h.settled()
        #expect(await h.enforcer.audit(cause: .audit) == AuditReport(checked: 2, wrong: 1, unlinkedWithAuthRoles: 0))
    }
}

@Suite(.timeLimit(.minutes(3))) struct TaskRunnerTests {
    @Test func aBulkTaskAuditsEveryoneAndWritesOnlyToTheWrongMembers() async throws {
        let h = try await Harness.make(members: [Fixture.member(10, roles: [Fixture.member.id, Fixture.alpha.id]),
                                                 Fixture.member(11, roles: [Fixture.member.id, Fixture.alpha.id]),
                                                 Fixture.member(12, roles: [Fixture.member.id, Fixture.alpha.id])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), 10), (Fixture.user(43, groups: ["Alpha"]), 11),
                                               (Fixture.user(44, groups: ["Alpha"]), 12)])
        await h.settled()
        // A manual edit on member 12 whose correction failed: it waits, wrong, for the next audit.
        await h.writer.failNextWrite(with: .transport(.timeout))
        let stripped = Fixture.member(12, roles: [Fixture.member.id])
        await h.writer.setMember(stripped)
        await h.enforcer.apply(.guildMemberUpdate(GuildMemberEvent(guildID: Fixture.guildID, member: stripped)))
        await h.settled()
        #expect(await h.writer.writes.isEmpty)

        let tasks = TaskRunner(enforcer: h.enforcer, store: h.store)
        let id = try await tasks.enqueue("discord.update_all_groups", userID: nil)
        let run = try #require(await tasks.finished(id: id))
        #expect(run.state == .done)
        #expect(run.progress == TaskProgress(done: 3, total: 3, written: 1, skipped: 0, failed: 0))
        #expect(try await h.store.taskRun(id: id)?.state == .done)
        #expect(await h.writer.writes == [.add(user: 12, role: Fixture.alpha.id)], "only the wrong member is written")
    }

    @Test func aTaskQueuedWhileTheMemberCacheFillsWaitsForItAndCoversEveryone() async throws {
        let members = [Fixture.member(10, roles: [Fixture.member.id]), Fixture.member(11, roles: [Fixture.member.id, Fixture.alpha.id])]
        let h = try await Harness.make(members: members, users: [(Fixture.user(42, groups: ["Alpha"]), 10),
                                                                 (Fixture.user(43, groups: ["Alpha"]), 11)])
        await h.writer.waitForWrites(1)
        await h.settled()
        // A new session: GUILD_CREATE empties the member list until the chunks are in.
        let botMember = Fixture.member(Fixture.bot, roles: [Fixture.wardenRole.id])
        await h.enforcer.apply(.guildCreate(Guild(id: Fixture.guildID, name: "Test", ownerID: Fixture.owner,
                                                  roles: [Fixture.everyone, Fixture.officers, Fixture.wardenRole, Fixture.member,
                                                          Fixture.alpha, Fixture.bravo, Fixture.booster],
                                                  members: [botMember], memberCount: 3)))
        let tasks = TaskRunner(enforcer: h.enforcer, store: h.store)
        let id = try await tasks.enqueue("discord.update_all_groups", userID: nil)
        #expect(await tasks.run(id: id)?.state == .queued, "not run against a half-filled cache")

        await h.enforcer.beginMemberFill(nonce: "again")
        let filled = [Fixture.member(10, roles: [Fixture.member.id, Fixture.alpha.id]), Fixture.member(11, roles: [Fixture.member.id, Fixture.alpha.id])]
        await h.enforcer.apply(.guildMembersChunk(GuildMembersChunk(guildID: Fixture.guildID, members: filled + [botMember],
                                                                    chunkIndex: 0, chunkCount: 1, nonce: "again")))
        await tasks.memberCacheCompleted()
        let run = try #require(await tasks.finished(id: id))
        #expect(run.state == .done)
        #expect(run.progress.total == 2, "every linked member was covered")
    }

    @Test func aTaskInterruptedByARestartRunsAgainToTheEnd() async throws {
        let h = try await Harness.make(members: [Fixture.member(10, roles: [Fixture.member.id])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), 10)])
        await h.settled()
        // A previous process queued and started a bulk task, then died.
        var interrupted = try await h.store.createTaskRun(name: "discord.update_all_groups", total: 1)
        interrupted.state = .running
        _ = try await h.store.updateTaskRun(interrupted)

        let tasks = TaskRunner(enforcer: h.enforcer, store: h.store)
        #expect(await tasks.resumeUnfinished() == 1)
        let run = try #require(await tasks.finished(id: interrupted.id))
        #expect(run.state == .done)
        #expect(run.progress.total == 1 && run.progress.done == 1)
        #expect(try await h.store.taskRun(id: interrupted.id)?.state == .done)
    }

    @Test func perUserTasksNeedAUserAndBulkTasksRefuseOne() async throws {
        let h = try await Harness.make(members: [Fixture.member(10, roles: [Fixture.member.id])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), 10)])
        await h.settled()
        let tasks = TaskRunner(enforcer: h.enforcer, store: h.store)
        await #expect(throws: TaskRequestError.unknownTask("discord.nope")) { try await tasks.enqueue("discord.nope", userID: nil) }
        await #expect(throws: TaskRequestError.userRequired) { try await tasks.enqueue("discord.update_groups", userID: nil) }
        await #expect(throws: TaskRequestError.userNotAllowed) { try await tasks.enqueue("discord.update_all", userID: 42) }
        await #expect(throws: TaskRequestError.unknownUser(7)) { try await tasks.enqueue("discord.update_groups", userID: 7) }
        let id = try await tasks.enqueue("discord.delete_user", userID: 42)
        let run = try #require(await tasks.finished(id: id))
        #expect(run.state == .done)
        #expect(run.progress.written == 1)
        #expect(await h.writer.writes.contains(.kick(10)))
        #expect(try await h.store.discordLink(userID: 42) == nil)
    }
}
