import AuthModels
import AuthStore
import Clocks
import DiscordModels
import DiscordREST
import GuildState
import RoleSync
import Testing
@testable import WardenService

/// SPEC 1.2 "once" is per existing role: the memory of created roles as a value.
@Suite struct RoleCreationMemoryTests {
    typealias Memory = RoleCreationMemory<TestClock<Duration>.Instant>
    let start = TestClock<Duration>().now

    @Test func oneCreationPerNameAtATimeAndTheWaitingMembersArePlannedAgainWhenTheRoleAppears() {
        var memory = Memory()
        #expect(memory.need("Gamma", by: 10) == .waiting)
        #expect(memory.need("Gamma", by: 11) == .waiting)
        #expect(memory.need("Delta", by: 11) == .waiting)
        #expect(memory.queue == ["Gamma", "Delta"], "queued once per name")
        #expect(memory.next() == "Gamma")
        #expect(memory.next() == nil, "one in flight at a time")
        #expect(memory.need("Gamma", by: 12) == .waiting)
        #expect(memory.queue == ["Delta"], "not queued again while in flight")
        memory.created("Gamma", id: 901, until: start.advanced(by: .seconds(10)))
        #expect(memory.need("Gamma", by: 13) == .waiting)
        #expect(memory.queue == ["Delta"], "not queued again while its echo is awaited")
        #expect(Set(memory.roleAppeared(named: "Gamma")) == [10, 11, 12, 13])
        #expect(!memory.isWaiting(10) && !memory.isWaiting(11), "a member waiting for two names is planned again once")
        // The cache answers for it now: a member who needs the name again (it was deleted) queues it again.
        #expect(memory.need("Gamma", by: 10) == .waiting)
        #expect(memory.queue == ["Delta", "Gamma"])
    }

    @Test func aCreatedRoleDeletedOrRenamedBeforeItsEchoEndsTheMemory() {
        var memory = Memory()
        _ = memory.need("Gamma", by: 10)
        _ = memory.next()
        memory.created("Gamma", id: 901, until: start.advanced(by: .seconds(10)))
        #expect(memory.roleGone(777) == [], "another role")
        #expect(memory.roleGone(901) == [10])
        #expect(memory.need("Gamma", by: 11) == .waiting)
        #expect(memory.queue == ["Gamma"], "created again for the next member")
    }

    @Test func anUnansweredEchoExpiresAndAFailedNameWaitsForTheNextAudit() {
        var memory = Memory()
        _ = memory.need("Gamma", by: 10)
        _ = memory.next()
        memory.created("Gamma", id: 901, until: start.advanced(by: .seconds(10)))
        #expect(memory.expire(now: start.advanced(by: .seconds(9))) == [])
        #expect(memory.expire(now: start.advanced(by: .seconds(10))) == [10])
        #expect(memory.need("Gamma", by: 10) == .waiting)

        _ = memory.need("Delta", by: 11)
        #expect(memory.next() == "Gamma")
        #expect(memory.creationFailed("Gamma") == [10])
        #expect(memory.need("Gamma", by: 12) == .failed, "not tried again before the next audit")
        #expect(!memory.isWaiting(12))
        #expect(memory.next() == "Delta")
        memory.retryFailed()
        #expect(memory.need("Gamma", by: 12) == .waiting)
        #expect(memory.isBusy)
    }
}

/// SPEC 1.2: a role Warden created and an admin deleted or renamed is created again for the next member
/// who needs it, and a member is never settled "ok" while its role is still to be created.
@Suite(.timeLimit(.minutes(3))) struct EnforcerRoleCreationTests {
    @Test func aCreatedRoleDeletedOnDiscordIsCreatedAgainForTheNextMemberWhoNeedsIt() async throws {
        let h = try await Harness.make(members: [Fixture.member(10, roles: [Fixture.member.id]), Fixture.member(11, roles: [Fixture.member.id])],
                                       users: [(Fixture.user(42, groups: ["Gamma"]), 10), (Fixture.user(43, groups: []), 11)])
        await h.writer.waitForWrites(2)
        await h.settled()
        #expect(await h.writer.writes == [.create("Gamma"), .add(user: 10, role: 901)])

        // An admin deletes the role on Discord (members lose it without a member event).
        await h.writer.setMember(Fixture.member(10, roles: [Fixture.member.id]))
        await h.enforcer.apply(.guildRoleDelete(GuildRoleDelete(guildID: Fixture.guildID, roleID: 901)))
        // Later another member needs it.
        _ = try await h.store.upsert(Fixture.user(43, groups: ["Gamma"]))
        await h.enforcer.handle(.userChanged(id: 43, revision: 0))
        await h.writer.waitForWrites(5)
        await h.settled()
        let after = Array(await h.writer.writes.dropFirst(2))
        #expect(after.filter { $0 == .create("Gamma") }.count == 1, "exactly one new POST: \(after)")
        #expect(Set(after) == [.create("Gamma"), .add(user: 10, role: 902), .add(user: 11, role: 902)])
        #expect(await h.enforcer.withGuild { $0.member(11)?.roleIDs.contains(902) } == true)
        #expect(try await h.store.enforcement(userID: 43)?.state == .ok)
    }

    @Test func aCreatedRoleRenamedOnDiscordIsCreatedAgainAndTheRenamedOneTakenAway() async throws {
        let h = try await Harness.make(members: [Fixture.member(10, roles: [Fixture.member.id])],
                                       users: [(Fixture.user(42, groups: ["Gamma"]), 10)])
        await h.writer.waitForWrites(2)
        await h.settled()
        await h.enforcer.apply(.guildRoleUpdate(GuildRoleEvent(guildID: Fixture.guildID, role: Role(id: 901, name: "Gamma (old)", position: 1))))
        await h.writer.waitForWrites(5)
        await h.settled()
        let writes = await h.writer.writes
        #expect(writes.filter { $0 == .create("Gamma") }.count == 2, "created again once: \(writes)")
        #expect(await h.enforcer.withGuild { Set($0.member(10)?.roleIDs ?? []) } == [Fixture.member.id, 902])
    }

    @Test func aMemberWaitingForItsRoleIsPendingNeverOkUntilItHasIt() async throws {
        let h = try await Harness.make(roleEchoesLate: true, members: [Fixture.member(10, roles: [Fixture.member.id])],
                                       users: [(Fixture.user(42, groups: ["Gamma"]), 10)])
        await h.writer.waitForWrites(1)
        await h.settled()
        #expect(await h.writer.writes == [.create("Gamma")])
        #expect(await h.enforcer.isPending(userID: 42), "waiting for the role's GUILD_ROLE_CREATE")
        #expect(try await h.store.enforcement(userID: 42)?.state != .ok, "not settled ok while the role is to come")

        await h.writer.releaseRoleEchoes()
        await h.writer.waitForWrites(2)
        await h.settled()
        #expect(await h.writer.writes == [.create("Gamma"), .add(user: 10, role: 901)])
        #expect(!(await h.enforcer.isPending(userID: 42)))
        #expect(try await h.store.enforcement(userID: 42)?.state == .ok)
    }

    @Test func aFailedRoleCreationLeavesTheMemberFailedNotOk() async throws {
        let h = try await Harness.make(failFirstWrite: .http(DiscordHTTPError(route: "POST", status: 500, body: nil)),
                                       members: [Fixture.member(10, roles: [Fixture.member.id])],
                                       users: [(Fixture.user(42, groups: ["Gamma"]), 10)])
        await h.settled()
        #expect(await h.writer.writes.isEmpty, "the creation failed")
        #expect(await h.enforcer.status().failed.map(\.discordUID) == [10])
        #expect(try await h.store.enforcement(userID: 42)?.state == .failed)
        #expect(!(await h.enforcer.isPending(userID: 42)))
    }
}

/// SPEC 1.8: a write that needs a permission the bot lacks is never sent; the member is skipped with
/// `missing_permissions` until the permission is back, and then checked again.
@Suite(.timeLimit(.minutes(3))) struct EnforcerPermissionTests {
    static let wardenRole = Fixture.wardenRole

    @Test func withoutManageRolesNoRoleWriteOrCreationIsSentUntilThePermissionIsBack() async throws {
        let h = try await Harness.make(botPermissions: [.kickMembers, .manageNicknames, .createInstantInvite],
                                       members: [Fixture.member(10, roles: [Fixture.member.id]), Fixture.member(11, roles: [Fixture.member.id])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), 10), (Fixture.user(43, groups: ["Gamma"]), 11)])
        await h.settled()
        #expect(await h.writer.writes.isEmpty, "nothing Discord would refuse is sent")
        #expect(Set(await h.enforcer.status().skipped.map(\.reason)) == ["missing_permissions"])
        #expect(await h.enforcer.status().skipped.count == 2)
        #expect(try await h.store.enforcement(userID: 42)?.reason == "missing_permissions")
        #expect(h.alerts.isOpen(.missingPermissions))

        // An audit (a task, the periodic one) sends nothing either.
        _ = await h.enforcer.audit(cause: .audit)
        await h.settled()
        #expect(await h.writer.writes.isEmpty)

        // The permission is given back: the members are checked again at once.
        await h.enforcer.apply(.guildRoleUpdate(GuildRoleEvent(guildID: Fixture.guildID, role: Self.wardenRole)))
        await h.writer.waitForWrites(3)
        await h.settled()
        #expect(Set(await h.writer.writes) == [.add(user: 10, role: Fixture.alpha.id), .create("Gamma"), .add(user: 11, role: 901)])
        #expect(await h.enforcer.status().skipped.isEmpty)
        #expect(!h.alerts.isOpen(.missingPermissions))
    }

    @Test func withoutKickMembersNobodyIsKicked() async throws {
        let h = try await Harness.make(botPermissions: [.manageRoles, .manageNicknames, .createInstantInvite],
                                       members: [Fixture.member(10, roles: [Fixture.member.id]), Fixture.member(11, roles: [Fixture.member.id])],
                                       users: [(Fixture.user(42, access: false), 10), (Fixture.user(43), 11)])
        await h.settled()
        #expect(await h.writer.writes == [.add(user: 11, role: Fixture.alpha.id)], "no kick of member 10")
        #expect(await h.enforcer.status().skipped == [SkippedMember(userID: 42, discordUID: 10, name: "m10", reason: "missing_permissions")])
        // Neither through the admin API's deactivation.
        #expect(try await h.enforcer.deactivate(userID: 43, reason: "Auth: account deactivated", notify: false))
        #expect(!(await h.writer.writes.contains(.kick(11))))
    }

    @Test func withoutManageNicknamesTheRolesAreWrittenAndTheNicknameSkipped() async throws {
        let h = try await Harness.make(syncNames: true, botPermissions: [.manageRoles, .kickMembers, .createInstantInvite],
                                       members: [Fixture.member(10, roles: [Fixture.member.id], nick: "x")],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), 10)])
        await h.writer.waitForWrites(1)
        await h.settled()
        #expect(await h.writer.writes == [.add(user: 10, role: Fixture.alpha.id)], "no nickname sent")
        #expect(await h.enforcer.status().skipped.map(\.reason) == ["missing_permissions"])
        #expect(try await h.store.enforcement(userID: 42)?.state == .skipped)
    }

    @Test func administratorGrantsEveryPermission() async throws {
        let h = try await Harness.make(syncNames: true, botPermissions: [.administrator],
                                       members: [Fixture.member(10, roles: [Fixture.member.id], nick: "x")],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), 10)])
        await h.writer.waitForWrites(1)
        await h.settled()
        #expect(await h.writer.writes == [.modify(user: 10, roles: [Fixture.member.id, Fixture.alpha.id], nick: "Pilot 42")])
        #expect(await h.enforcer.status().skipped.isEmpty)
    }
}

/// SPEC 1.4: a user without access is unlinked whether or not its account is in the guild.
@Suite(.timeLimit(.minutes(3))) struct EnforcerAccessTests {
    @Test func aLinkedUserWithoutAccessWhoseAccountIsNotInTheGuildIsUnlinkedAndNotified() async throws {
        let h = try await Harness.make(members: [], users: [(Fixture.user(42, access: false), 10)])
        await h.settled()
        #expect(await h.writer.writes.isEmpty, "nobody to kick")
        #expect(try await h.store.discordLink(userID: 42) == nil)
        #expect(try await h.store.notifications(userID: 42).map(\.kind) == [.accountDisabled])
        #expect(await h.enforcer.status().linkedUsers == 0)
    }

    @Test func losingAccessOrImportingALinkWithoutAccessLeavesNoLink() async throws {
        let h = try await Harness.make(members: [], users: [(Fixture.user(42), 10), (Fixture.user(43, access: false), nil)])
        await h.settled()
        #expect(try await h.store.discordLink(userID: 42) != nil, "with access, a link of an account not in the guild stays")

        // Auth takes the access away (inactive): unlinked though the account is not in the guild.
        var inactive = Fixture.user(42)
        inactive.active = false
        _ = try await h.store.upsert(inactive)
        await h.enforcer.handle(.userChanged(id: 42, revision: 0))
        await h.settled()
        #expect(try await h.store.discordLink(userID: 42) == nil)

        // A migration imports a link for a user without access: it does not stay.
        _ = try await h.store.upsert(AuthUserImport(user: Fixture.user(43, access: false), discordUID: 12))
        await h.enforcer.handle(.linked(userID: 43, uid: 12))
        await h.settled()
        #expect(try await h.store.discordLink(userID: 43) == nil)
        #expect(await h.writer.writes.isEmpty)
    }

    @Test func observeOnlyOnlyListsTheUnlink() async throws {
        let h = try await Harness.make(enforce: false, members: [], users: [(Fixture.user(42, access: false), 10)])
        await h.settled()
        #expect(try await h.store.discordLink(userID: 42) != nil)
        #expect(await h.enforcer.status().observed.first?.change.hasPrefix("unlink") == true)
    }
}
