import AuthModels
import AuthStore
import DiscordFake
import DiscordModels
import Foundation
import Testing
import WardenService

/// SPEC 1.2–1.5 end to end (issue 5, item 7): the daemon in-process with real transports and SQLite
/// against DiscordFake, each rule seen from Discord's side (the fake's guild and the requests it got).
@Suite(.serialized, .timeLimit(.minutes(5))) struct EnforcementE2ETests {
    typealias E2E = EnforcementE2E

    // MARK: - Unlinked members

    @Test(arguments: ["strip", "report", "ignore"])
    func aManualEditGivingAnAuthRoleToAnUnlinkedMemberIsHandledPerPolicy(policy: String) async throws {
        var ids: [Snowflake] = []
        let e2e = try await E2E.start(extra: #", "unlinked_members": "\#(policy)""#) { discord in
            let (member, corp, blue) = (discord.role(named: "Member")!.id, discord.role(named: "Corp_WYE")!.id,
                                        discord.role(named: "Blue")!.id)
            ids = [discord.addMember(username: "alice", roles: [member, corp]).user!.id,
                   discord.addMember(username: "mallory", roles: [blue]).user!.id]
            return [(E2E.user(1, groups: ["Corp_WYE"]), ids[0])]
        }
        let mallory = ids[1]
        let (corp, blue) = (try e2e.roleID("Corp_WYE"), try e2e.roleID("Blue"))
        let discord = e2e.discord
        #expect(e2e.writes(to: mallory).isEmpty, "holding only a role Auth does not manage is fine under every policy")

        // A moderator gives the unlinked member a role Auth manages (alice's group).
        let mark = discord.requestCount
        try discord.addRole(corp, to: mallory)
        switch policy {
        case "strip":
            try await e2e.waitUntil { Set(discord.member(mallory)?.roles ?? []) == [blue] }
            let strip = try #require(e2e.writes(to: mallory, from: mark).first)
            #expect(strip.method == "DELETE" && strip.path.hasSuffix("/roles/\(corp)"))
            #expect(strip.auditLogReason?.hasPrefix("Auth:") == true)
        default:
            try await e2e.barrier()
            #expect(e2e.writes(to: mallory, from: mark).isEmpty, "\(policy) never writes")
            #expect(e2e.roles(of: mallory) == [blue, corp])
        }
        let status = try #require(await e2e.daemon.status())
        let listed = status.enforcement.skipped.contains { $0.discordUID == mallory && $0.reason == "unlinked_member" }
        #expect(listed == (policy == "report"), "report lists the member in status at once; the others do not")
        let inAlert = { (alerts: [Alert]) -> Bool in
            alerts.contains { alert in
                guard alert.kind == .unlinkedMembers, case .array(let uids)? = alert.details["discord_uids"] else { return false }
                return uids.contains(.string(mallory.description))
            }
        }
        #expect(inAlert(status.alerts) == (policy == "report"), "report also lists it in the unlinked_members alert")

        // Under report, the listing follows the member: once the role is gone, so is the entry.
        if policy == "report" {
            try discord.removeRole(corp, from: mallory)
            try await e2e.barrier()
            let after = try #require(await e2e.daemon.status())
            #expect(!after.enforcement.skipped.contains { $0.discordUID == mallory })
            #expect(!inAlert(after.alerts), "and from the alert")
        }
        try await e2e.stop()
    }

    // MARK: - Joining, managed and reserved roles, the owner

    @Test func aLinkedMemberJoiningGetsRolesAndNicknameInOneWrite() async throws {
        var dave: User?
        let main = MainCharacter(characterID: 95_465_499, characterName: "Dave Null", corporationID: 98_000_001,
                                 corporationName: "Wayne Enterprises", corporationTicker: "WYE")
        let e2e = try await E2E.start(
            extra: #", "sync_names": true, "name_formats": {"Member": "[{corp_ticker}] {character_name}"}"#
        ) { discord in
            let user = discord.registerUser(username: "dave")
            dave = user
            return [(E2E.user(4, groups: ["Fleet Commanders"], main: main), user.id)]
        }
        let user = try #require(dave)
        let discord = e2e.discord
        #expect(discord.member(user.id) == nil)
        let (member, fleet) = (try e2e.roleID("Member"), try e2e.roleID("Fleet Commanders"))

        let mark = discord.requestCount
        discord.addMember(user, nick: "davey")
        try await e2e.waitUntil {
            Set(discord.member(user.id)?.roles ?? []) == [member, fleet] && discord.member(user.id)?.nick == "[WYE] Dave Null"
        }
        try await e2e.barrier()
        let writes = e2e.writes(to: user.id, from: mark)
        #expect(writes.count == 1, "roles and nickname in one PATCH: \(writes)")
        #expect(writes.first?.method == "PATCH")
        try await e2e.stop()
    }

    @Test func managedAndReservedRolesSurviveAuthChangesRevertsAndAudits() async throws {
        var eve = Snowflake(0)
        var kept: Set<Snowflake> = []
        let e2e = try await E2E.start(reserved: ["alpha"]) { discord in
            let alpha = discord.createRole(name: "Alpha")  // reserved by Auth (matched case-insensitively)
            let twitch = discord.createRole(name: "Twitch Subscriber", managed: true,
                                            tags: RoleTags(integrationID: 4_242_424_242))
            let booster = discord.role(named: "Server Booster")!
            kept = [alpha.id, twitch.id, booster.id]
            eve = discord.addMember(username: "eve", roles: [alpha.id, twitch.id, booster.id, discord.role(named: "Blue")!.id]).user!.id
            return [(E2E.user(5, groups: ["Corp_WYE"]), eve)]
        }
        let discord = e2e.discord
        let (member, corp, fleet, blue) = (try e2e.roleID("Member"), try e2e.roleID("Corp_WYE"),
                                           try e2e.roleID("Fleet Commanders"), try e2e.roleID("Blue"))
        let keptRoles = kept
        let eveID = eve

        // The first audit: Auth's roles in, the hand-given Blue out, managed and reserved kept.
        try await e2e.waitUntil { Set(discord.member(eveID)?.roles ?? []) == keptRoles.union([member, corp]) }

        // An Auth change.
        _ = try await e2e.parts.store.upsert(E2E.user(5, groups: ["Fleet Commanders"]))
        try await e2e.waitUntil { Set(discord.member(eveID)?.roles ?? []) == keptRoles.union([member, fleet]) }

        // A manual edit (two roles changed: one PATCH) is reverted.
        try discord.editMember(eveID, roles: Array(keptRoles) + [member, blue])
        try await e2e.waitUntil { Set(discord.member(eveID)?.roles ?? []) == keptRoles.union([member, fleet]) }

        // An audit (the bulk task) finds nothing to write. The revert's answer and echo may still be on
        // their way to Warden: the task then checks eve after that write and counts only its own writes.
        let beforeTask = discord.requestCount
        let task = try await e2e.parts.tasks.enqueue("discord.update_all_groups", userID: nil)
        let run = try #require(await e2e.parts.tasks.finished(id: task))
        #expect(run.state == .done)
        #expect(run.progress.written == 0)
        #expect(e2e.writes(to: eveID, from: beforeTask).isEmpty)

        // Auth takes every group away: the state's role stays, and so do managed and reserved roles.
        _ = try await e2e.parts.store.upsert(E2E.user(5, groups: []))
        try await e2e.waitUntil { Set(discord.member(eveID)?.roles ?? []) == keptRoles.union([member]) }
        try await e2e.barrier()

        let writes = e2e.writes(to: eveID)
        #expect(writes.count >= 4)
        for write in writes {
            if let roles = write.patchedRoles { #expect(keptRoles.isSubset(of: roles), "a PATCH kept them: \(write)") }
            if write.method == "DELETE" { #expect(!keptRoles.contains { write.path.hasSuffix("/roles/\($0)") }) }
        }
        #expect(discord.invalidRequestCount == 0, "no managed role was ever sent to Discord to add or remove")
        try await e2e.stop()
    }

    @Test func theOwnerIsSkippedWithTheReasonInStatusAndTheStore() async throws {
        let e2e = try await E2E.start { discord in [(E2E.user(6, groups: ["Corp_WYE"]), discord.ownerID)] }
        let owner = e2e.discord.ownerID
        try await e2e.barrier()
        #expect(e2e.writes(to: owner).isEmpty, "nothing is attempted on the owner")
        let status = try #require(await e2e.daemon.status())
        #expect(status.enforcement.skipped.contains { $0.discordUID == owner && $0.userID == 6 && $0.reason == "owner" })
        let record = try await e2e.parts.store.enforcement(userID: 6)
        #expect(record?.state == .skipped)
        #expect(record?.reason == "owner")
        try await e2e.stop()
    }

    // MARK: - Roles changed on Discord

    @Test func aRoleRenamedOrDeletedOnDiscordIsCreatedAgainUnderTheGroupsName() async throws {
        var ids: [Snowflake] = []
        let e2e = try await E2E.start { discord in
            let (member, corp, fleet) = (discord.role(named: "Member")!.id, discord.role(named: "Corp_WYE")!.id,
                                         discord.role(named: "Fleet Commanders")!.id)
            ids = [discord.addMember(username: "alice", roles: [member, corp]).user!.id,
                   discord.addMember(username: "bob", roles: [member, fleet]).user!.id]
            return [(E2E.user(1, groups: ["Corp_WYE"]), ids[0]), (E2E.user(2, groups: ["Fleet Commanders"]), ids[1])]
        }
        let (alice, bob) = (ids[0], ids[1])
        let discord = e2e.discord
        let member = try e2e.roleID("Member")
        let oldCorp = try e2e.roleID("Corp_WYE")
        let mark = discord.requestCount

        // Renamed: groups map to roles by name, so "Corp_WYE" is missing now. Warden creates it, gives it
        // to alice and takes away the renamed role, which Auth no longer manages.
        try discord.renameRole(oldCorp, to: "Corp_OLD")
        try await e2e.waitUntil {
            guard let corp = discord.role(named: "Corp_WYE")?.id else { return false }
            return Set(discord.member(alice)?.roles ?? []) == [member, corp]
        }
        #expect(try e2e.roleID("Corp_WYE") != oldCorp)
        #expect(discord.role(oldCorp)?.name == "Corp_OLD", "Warden never deletes or renames roles")

        // Deleted: bob loses it silently (no member event), then Warden creates it again and gives it back.
        try discord.deleteRole(try e2e.roleID("Fleet Commanders"))
        try await e2e.waitUntil {
            guard let fleet = discord.role(named: "Fleet Commanders")?.id else { return false }
            return Set(discord.member(bob)?.roles ?? []) == [member, fleet]
        }
        try await e2e.barrier()
        #expect(e2e.roleCreations(from: mark).sorted() == ["Corp_WYE", "Fleet Commanders"], "each role created once")
        try await e2e.stop()
    }

    /// SPEC 1.2, "once" is per existing role (issue 13, item 1): a role Warden created and an admin then
    /// deleted, or renamed, is created again for the next member who needs it, with one POST each time.
    @Test func aRoleWardenCreatedThenDeletedOrRenamedOnDiscordIsCreatedAgainForTheNextMember() async throws {
        var ids: [Snowflake] = []
        let e2e = try await E2E.start { discord in
            let member = discord.role(named: "Member")!.id
            ids = [discord.addMember(username: "alice", roles: [member]).user!.id,
                   discord.addMember(username: "bob", roles: [member]).user!.id]
            return [(E2E.user(1, groups: ["Gamma"]), ids[0]), (E2E.user(2, groups: []), ids[1])]
        }
        let (alice, bob) = (ids[0], ids[1])
        let discord = e2e.discord
        let store = e2e.parts.store
        let member = try e2e.roleID("Member")
        // The first audit created the role; alice gets it once its GUILD_ROLE_CREATE is in the cache.
        try await e2e.waitUntil { discord.role(named: "Gamma").map { discord.member(alice)?.roles.contains($0.id) == true } ?? false }
        #expect(e2e.roleCreations() == ["Gamma"])
        let first = try e2e.roleID("Gamma")
        #expect(e2e.roles(of: alice) == [member, first])

        // Alice leaves the group (Warden takes the role away), then an admin deletes the role.
        _ = try await store.upsert(E2E.user(1, groups: []))
        try await e2e.waitUntil { discord.member(alice)?.roles == [member] }
        try discord.deleteRole(first)
        try await e2e.barrier()

        // Bob needs it now: one new POST, and bob holds the new role.
        var mark = discord.requestCount
        _ = try await store.upsert(E2E.user(2, groups: ["Gamma"]))
        try await e2e.waitUntil {
            guard let gamma = discord.role(named: "Gamma")?.id else { return false }
            return Set(discord.member(bob)?.roles ?? []) == [member, gamma]
        }
        try await e2e.barrier()
        #expect(e2e.roleCreations(from: mark) == ["Gamma"])
        let second = try e2e.roleID("Gamma")
        #expect(second != first)
        #expect(try await store.enforcement(userID: 2)?.state == .ok)

        // An admin renames the role Warden made: bob needs "Gamma" again, gets a new one once, and the
        // renamed role (no longer Auth's) is taken away.
        mark = discord.requestCount
        try discord.renameRole(second, to: "Gamma (old)")
        try await e2e.waitUntil {
            guard let gamma = discord.role(named: "Gamma")?.id else { return false }
            return Set(discord.member(bob)?.roles ?? []) == [member, gamma]
        }
        try await e2e.barrier()
        #expect(e2e.roleCreations(from: mark) == ["Gamma"])
        #expect(discord.role(second)?.name == "Gamma (old)", "Warden never deletes or renames roles")
        #expect(discord.roles.filter { $0.name == "Gamma" }.count == 1)
        try await e2e.stop()
    }

    /// SPEC 1.8 (issue 13, item 8): without MANAGE_ROLES nothing Discord would refuse is sent (no invalid
    /// request at all); the member is skipped with `missing_permissions` in status and in its record,
    /// and corrected as soon as the permission is back.
    @Test func withoutManageRolesNothingIsSentUntilThePermissionIsBack() async throws {
        var alice = Snowflake(0)
        let e2e = try await E2E.start(fake: { _, seed in seed.botRolePermissions = [.kickMembers, .manageNicknames, .createInstantInvite] }) { discord in
            alice = discord.addMember(username: "alice", roles: [discord.role(named: "Member")!.id]).user!.id
            return [(E2E.user(1, groups: ["Corp_WYE", "Gamma"]), alice)]
        }
        let discord = e2e.discord
        let (member, corp) = (try e2e.roleID("Member"), try e2e.roleID("Corp_WYE"))
        let aliceID = alice
        #expect(e2e.writes().isEmpty, "no write, no role creation: \(e2e.writes())")
        #expect(discord.invalidRequestCount == 0)
        let status = try #require(await e2e.daemon.status())
        #expect(status.enforcement.skipped.contains { $0.discordUID == aliceID && $0.userID == 1 && $0.reason == "missing_permissions" })
        #expect(status.missingPermissions == ["MANAGE_ROLES"])
        #expect(try await e2e.parts.store.enforcement(userID: 1)?.reason == "missing_permissions")
        #expect(e2e.parts.alerts.isOpen(.missingPermissions))

        // An admin gives the permission back: the members are checked again at once.
        try discord.setRolePermissions(try e2e.roleID("Warden"), .wardenRequired)
        try await e2e.waitUntil {
            guard let gamma = discord.role(named: "Gamma")?.id else { return false }
            return Set(discord.member(aliceID)?.roles ?? []) == [member, corp, gamma]
        }
        try await e2e.barrier()
        #expect(discord.invalidRequestCount == 0)
        #expect(try await e2e.parts.store.enforcement(userID: 1)?.state == .ok)
        let alerts = e2e.parts.alerts
        try await E2E.waitFor(discord) { !alerts.isOpen(.missingPermissions) }
        try await e2e.stop()
    }

    @Test func aNewGroupForManyUsersAtOnceCreatesItsRoleExactlyOnce() async throws {
        var ids: [Snowflake] = []
        let e2e = try await E2E.start { discord in
            let member = discord.role(named: "Member")!.id
            ids = (0..<25).map { discord.addMember(username: "pilot\($0)", roles: [member]).user!.id }
            return ids.enumerated().map { (E2E.user(100 + Int64($0.offset), groups: []), $0.element) }
        }
        let discord = e2e.discord
        let member = try e2e.roleID("Member")
        let mark = discord.requestCount

        // One batch (one transaction) gives all 25 users the new group; a moderator edit on one of them
        // adds a concurrent trigger of another kind.
        _ = try await e2e.parts.store.upsert((0..<25).map { AuthUserImport(user: E2E.user(100 + Int64($0), groups: ["Titans"])) })
        try discord.addRole(try e2e.roleID("Blue"), to: ids[3])
        let pilots = ids
        try await e2e.waitUntil {
            guard let titans = discord.role(named: "Titans")?.id else { return false }
            return pilots.allSatisfy { Set(discord.member($0)?.roles ?? []) == [member, titans] }
        }
        try await e2e.barrier()
        #expect(e2e.roleCreations(from: mark) == ["Titans"], "one POST /roles for 25 concurrent triggers")
        #expect(discord.roles.filter { $0.name == "Titans" }.count == 1)
        try await e2e.stop()
    }

    // MARK: - Access and leaving

    @Test func accessLossKicksAndUnlinksAndLeavingUnlinksWithANotification() async throws {
        var ids: [Snowflake] = []
        let e2e = try await E2E.start { discord in
            let (member, corp) = (discord.role(named: "Member")!.id, discord.role(named: "Corp_WYE")!.id)
            ids = [discord.addMember(username: "alice", roles: [member, corp]).user!.id,
                   discord.addMember(username: "bob", roles: [member, corp]).user!.id]
            return [(E2E.user(1, groups: ["Corp_WYE"]), ids[0]), (E2E.user(2, groups: ["Corp_WYE"]), ids[1])]
        }
        let (alice, bob) = (ids[0], ids[1])
        let discord = e2e.discord
        let store = e2e.parts.store
        #expect(e2e.writes().isEmpty, "both were in sync")

        // Auth takes alice's access away: kicked, unlinked, told why.
        _ = try await store.upsert(E2E.user(1, groups: ["Corp_WYE"], access: false))
        try await e2e.waitUntil { discord.member(alice) == nil }
        let kick = try #require(e2e.writes(to: alice).last)
        #expect(kick.method == "DELETE" && kick.path.hasSuffix("/members/\(alice)"))
        #expect(kick.auditLogReason?.hasPrefix("Auth:") == true)

        // Bob leaves on his own: unlinked, told, his Auth record kept; nothing is sent to Discord.
        try discord.removeMember(bob)
        try await e2e.barrier()
        #expect(e2e.writes(to: bob).isEmpty)
        #expect(try await store.discordLink(userID: 1) == nil)
        #expect(try await store.notifications(userID: 1).map(\.kind) == [.accountDisabled])
        #expect(try await store.discordLink(userID: 2) == nil)
        #expect(try await store.notifications(userID: 2).map(\.kind) == [.leftGuild])
        #expect(try await store.user(id: 2) != nil, "the Auth record stays")
        #expect(await e2e.daemon.status()?.enforcement.linkedUsers == 1, "only the sentinel is still linked")
        try await e2e.stop()
    }

    // MARK: - Echoes, fights, observe-only

    /// Each wrong member gets exactly one write, whether the echo of Warden's write arrives before or after
    /// the REST answer; the echoes themselves cause nothing.
    @Test(arguments: [0, 300])
    func ourOwnWritesEchoingBackCauseNoExtraWrites(echoDelayMilliseconds: Int) async throws {
        var ids: [Snowflake] = []
        let e2e = try await E2E.start(fake: { configuration, _ in
            if echoDelayMilliseconds > 0 { configuration.restDispatchDelay = .milliseconds(echoDelayMilliseconds) }
        }) { discord in
            let (member, blue) = (discord.role(named: "Member")!.id, discord.role(named: "Blue")!.id)
            // Six need one role (PUT), six need a PATCH (a role to add and one to remove).
            ids = (0..<6).map { discord.addMember(username: "one\($0)", roles: [member]).user!.id }
                + (0..<6).map { discord.addMember(username: "two\($0)", roles: [blue]).user!.id }
            return ids.enumerated().map { (E2E.user(200 + Int64($0.offset), groups: ["Corp_WYE"]), $0.element) }
        }
        let discord = e2e.discord
        let (member, corp) = (try e2e.roleID("Member"), try e2e.roleID("Corp_WYE"))
        let members = ids
        try await e2e.waitUntil { members.allSatisfy { Set(discord.member($0)?.roles ?? []) == [member, corp] } }
        // Every echo has reached Warden's cache (then the barrier shows whether any caused a write).
        let enforcer = e2e.parts.enforcer
        try await E2E.waitFor(discord) {
            await enforcer.withGuild { guild in members.allSatisfy { Set(guild.member($0)?.roleIDs ?? []) == [member, corp] } }
        }
        try await e2e.barrier()
        for id in members { #expect(e2e.writes(to: id).count == 1, "one write for \(id)") }
        #expect(e2e.writes(to: members[0]).first?.method == "PUT")
        #expect(e2e.writes(to: members[6]).first?.method == "PATCH")

        // Later corrections are single writes too.
        let mark = discord.requestCount
        try discord.removeRole(corp, from: members[0])
        try await e2e.waitUntil { discord.member(members[0])?.roles.contains(corp) == true }
        try await e2e.barrier()
        #expect(e2e.writes(from: mark).filter { !$0.path.contains("/members/\(e2e.sentinel)") }.count == 1)
        try await e2e.stop()
    }

    @Test func aFightWithAnotherActorStopsAtTheFightLimitAndRaisesRoleFight() async throws {
        var alice = Snowflake(0)
        let e2e = try await E2E.start(extra: #", "fight_limit": 3"#) { discord in
            alice = discord.addMember(username: "alice", roles: [discord.role(named: "Member")!.id,
                                                                 discord.role(named: "Corp_WYE")!.id]).user!.id
            return [(E2E.user(1, groups: ["Corp_WYE"]), alice)]
        }
        let discord = e2e.discord
        let (member, corp, fleet) = (try e2e.roleID("Member"), try e2e.roleID("Corp_WYE"), try e2e.roleID("Fleet Commanders"))
        let aliceID = alice
        let mark = discord.requestCount

        // A moderator takes the role away; another bot takes it away again each time it is back.
        try discord.removeRole(corp, from: aliceID)
        let fighter = Task {
            var undone = 0
            for await _ in discord.activity() {
                guard discord.member(aliceID)?.roles.contains(corp) == true else { continue }
                try? discord.removeRole(corp, from: aliceID)
                undone += 1
            }
            return undone
        }

        let alerts = e2e.parts.alerts
        try await E2E.waitFor(discord) { alerts.isOpen(.roleFight, subject: aliceID.description) }
        try await e2e.barrier()
        let corrections = e2e.writes(to: aliceID, from: mark)
        #expect(corrections.count == 3, "exactly fight_limit corrections: \(corrections)")
        #expect(!e2e.roles(of: aliceID).contains(corp), "the last undo stands")
        let status = try #require(await e2e.daemon.status())
        #expect(status.enforcement.skipped.contains { $0.discordUID == aliceID && $0.reason == "role_fight" })
        #expect(status.alerts.contains { $0.kind == .roleFight })
        fighter.cancel()
        #expect(await fighter.value == 3)

        // During the pause no trigger writes the member: not the audit a role change starts, not a task.
        let paused = discord.requestCount
        discord.createRole(name: "Unrelated")
        let task = try await e2e.parts.tasks.enqueue("discord.update_groups", userID: 1)
        let run = try #require(await e2e.parts.tasks.finished(id: task))
        #expect(run.progress.skipped == 1)
        try await e2e.barrier()
        #expect(e2e.writes(to: aliceID, from: paused).isEmpty, "left alone during the pause")

        // Auth changing the user ends the pause at once.
        _ = try await e2e.parts.store.upsert(E2E.user(1, groups: ["Corp_WYE", "Fleet Commanders"]))
        try await e2e.waitUntil { Set(discord.member(aliceID)?.roles ?? []) == [member, corp, fleet] }
        try await E2E.waitFor(discord) { !alerts.isOpen(.roleFight, subject: aliceID.description) }
        try await e2e.stop()
    }

    @Test func observeOnlyWritesNothingAndListsEveryPlannedChange() async throws {
        var ids: [Snowflake] = []
        let e2e = try await E2E.start(extra: #", "enforce": false"#) { discord in
            let member = discord.role(named: "Member")!.id
            ids = [discord.addMember(username: "wrong").user!.id,
                   discord.addMember(username: "newgroup", roles: [member]).user!.id,
                   discord.addMember(username: "noaccess", roles: [member]).user!.id,
                   discord.addMember(username: "insync", roles: [member]).user!.id]
            return [(E2E.user(1, groups: ["Corp_WYE"]), ids[0]), (E2E.user(2, groups: ["Titans"]), ids[1]),
                    (E2E.user(3, groups: [], access: false), ids[2]), (E2E.user(4, groups: []), ids[3])]
        }
        let discord = e2e.discord
        let daemon = e2e.daemon
        let members = ids
        let planned = Set(members.prefix(3))
        try await E2E.waitFor(discord) {
            Set(await daemon.status()?.enforcement.observed.map(\.discordUID) ?? []) == planned
        }

        // A manual edit on the member in sync is observed too, not reverted.
        try discord.addRole(try e2e.roleID("Blue"), to: members[3])
        try await E2E.waitFor(discord) {
            await daemon.status()?.enforcement.observed.contains { $0.discordUID == members[3] } == true
        }
        let observed = try #require(await daemon.status()).enforcement.observed
        #expect(observed.first { $0.discordUID == ids[1] }?.change.contains("Titans") == true)
        #expect(observed.first { $0.discordUID == ids[2] }?.change.contains("kick") == true)
        #expect(e2e.writes().isEmpty, "observe-only writes nothing: \(e2e.writes())")
        #expect(discord.role(named: "Titans") == nil)
        #expect(discord.member(ids[2]) != nil)
        #expect(try await e2e.parts.store.discordLink(userID: 3) != nil, "no unlink either")
        #expect(try await e2e.parts.store.enforcement(userID: 1)?.state == .observed)
        try await e2e.stop()
    }
}
