import AuthStore
import DiscordModels
import GuildState
import RoleSync
import Testing
@testable import WardenService

/// Kicks Discord would refuse or that observe-only forbids, and the `report` policy's alert (SPEC 1.4, 1.5).
@Suite(.timeLimit(.minutes(3))) struct EnforcerRefusalTests {
    /// In sync with `Fixture.user(42)`: Member and Alpha.
    static let inSync: [Snowflake] = [Fixture.member.id, Fixture.alpha.id]

    @Test func observeOnlyDeactivationUnlinksButKicksNobody() async throws {
        let h = try await Harness.make(enforce: false, members: [Fixture.member(10, roles: Self.inSync)],
                                       users: [(Fixture.user(42), 10)])
        await h.settled()
        #expect(try await h.enforcer.deactivate(userID: 42, reason: "Auth: account deactivated", notify: false))
        #expect(await h.writer.writes.isEmpty)
        #expect(try await h.store.discordLink(userID: 42) == nil)
        let observed = await h.enforcer.status().observed
        #expect(observed.map(\.discordUID) == [10])
        #expect(observed.first?.change.hasPrefix("kick") == true)
    }

    @Test func observeOnlyNeverKicksAUserDeletedFromAuth() async throws {
        let h = try await Harness.make(enforce: false, members: [Fixture.member(10, roles: Self.inSync)],
                                       users: [(Fixture.user(42), 10)])
        await h.settled()
        _ = try await h.store.deleteUser(id: 42)
        await h.enforcer.handle(.userDeleted(id: 42, uid: 10))
        await h.settled()
        #expect(await h.writer.writes.isEmpty)
        #expect(await h.enforcer.status().observed.contains { $0.discordUID == 10 && $0.change.hasPrefix("kick") })
    }

    @Test func deactivatingTheOwnerUnlinksWithoutSendingAKick() async throws {
        let h = try await Harness.make(members: [Fixture.member(Fixture.owner, roles: [])],
                                       users: [(Fixture.user(42), Fixture.owner)])
        await h.settled()
        #expect(try await h.enforcer.deactivate(userID: 42, reason: "Auth: user deleted", notify: false))
        #expect(await h.writer.writes.isEmpty)
        #expect(try await h.store.discordLink(userID: 42) == nil)
        #expect(await h.enforcer.status().skipped.map(\.reason) == ["owner"])
    }

    @Test func outcomesAreStoredBeforeTheEnforcerIsIdleNewestLast() async throws {
        let members = (10..<60).map { Fixture.member(Snowflake(UInt64($0)), roles: Self.inSync) }
        let users = (10..<60).map { (Fixture.user(Int64($0)), Optional(Snowflake(UInt64($0)))) }
        let h = try await Harness.make(members: members + [Fixture.member(Fixture.owner, roles: [])],
                                       users: users + [(Fixture.user(99), Fixture.owner)])
        await h.settled()
        #expect(try await h.store.enforcement(userID: 99)?.state == .skipped)
        // A burst of edits on every member: each is corrected, and what is stored is the newest outcome.
        for id in 10..<60 {
            let stripped = Fixture.member(Snowflake(UInt64(id)), roles: [Fixture.member.id])
            await h.writer.setMember(stripped)
            await h.enforcer.apply(.guildMemberUpdate(GuildMemberEvent(guildID: Fixture.guildID, member: stripped)))
        }
        await h.writer.waitForWrites(50)
        await h.settled()
        for id in Int64(10)..<60 { #expect(try await h.store.enforcement(userID: id)?.state == .ok, "user \(id)") }
    }

    @Test func deactivatingAMemberAboveTheBotUnlinksWithoutSendingAKick() async throws {
        let h = try await Harness.make(members: [Fixture.member(10, roles: [Fixture.officers.id])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), 10)])
        await h.settled()
        let before = await h.writer.writes
        #expect(try await h.enforcer.deactivate(userID: 42, reason: "Auth: user deleted", notify: false))
        #expect(await h.writer.writes == before, "no kick sent")
        #expect(!before.contains(.kick(10)))
        #expect(try await h.store.discordLink(userID: 42) == nil)
        #expect(await h.enforcer.status().skipped.contains { $0.discordUID == 10 && $0.reason == "member_above_bot" })
    }

    @Test func reportPolicyListsUnlinkedHoldersInAnAlertUntilTheyAreGone() async throws {
        let h = try await Harness.make(unlinkedMembers: .report,
                                       members: [Fixture.member(10, roles: [Fixture.alpha.id]), Fixture.member(11, roles: [])],
                                       users: [(Fixture.user(42, groups: ["Alpha"]), nil)])
        await h.settled()
        #expect(await h.writer.writes.isEmpty, "report never writes")
        #expect(h.alerts.isOpen(.unlinkedMembers))
        #expect(await h.enforcer.status().skipped.map(\.discordUID) == [10])

        // The member loses the role: the alert resolves at once, no audit needed.
        let cleared = Fixture.member(10, roles: [])
        await h.writer.setMember(cleared)
        await h.enforcer.apply(.guildMemberUpdate(GuildMemberEvent(guildID: Fixture.guildID, member: cleared)))
        await h.settled()
        #expect(!h.alerts.isOpen(.unlinkedMembers))
        #expect(await h.enforcer.status().skipped.isEmpty)
    }

    @Test func aReservedRoleAboveTheBotIsNotReportedUnmanageable() async throws {
        let h = try await Harness.make(members: [], users: [(Fixture.user(42, groups: ["Officers"]), nil)])
        #expect(h.alerts.isOpen(.rolesUnmanageable), "Officers is Auth's and above the bot")
        _ = try await h.store.replaceReservedGroupNames(["officers"])
        await h.enforcer.handle(.reservedGroupNamesChanged)
        await h.settled()
        #expect(!h.alerts.isOpen(.rolesUnmanageable), "a reserved role is not Auth-managed")
    }
}
