import AuthModels
import AuthStore
import DiscordFake
import DiscordModels
import DiscordREST
import Foundation
import Testing
import WardenService

/// Each alert of SPEC 1.6 raised and resolved against a running daemon by acting on DiscordFake as a
/// moderator would, and read back the way an operator reads it: `GET /api/alerts` and `GET /api/status`
/// over real HTTP, and the JSON alert object posted to `alerts.webhook_url` (a loopback receiver).
@Suite(.serialized, .timeLimit(.minutes(5))) struct AlertIntegrationTests {
    /// The webhook got the JSON alert object of SPEC 3.3 (a non-Discord URL), posted as JSON to its path.
    static func expectAlertObject(_ notice: WebhookReceiver.Received, kind: String, severity: String, resolved: Bool,
                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(notice.method == "POST", sourceLocation: sourceLocation)
        #expect(notice.path == LiveWarden.webhookPath, sourceLocation: sourceLocation)
        #expect(notice.header("Content-Type")?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
        let object = try #require(notice.object, "the body is a JSON object", sourceLocation: sourceLocation)
        #expect(Set(object.keys) == ["kind", "severity", "message", "details", "raised_at", "resolved_at"], sourceLocation: sourceLocation)
        #expect(object["kind"] as? String == kind, sourceLocation: sourceLocation)
        #expect(object["severity"] as? String == severity, sourceLocation: sourceLocation)
        #expect((object["message"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(object["details"] is [String: Any], sourceLocation: sourceLocation)
        let raisedAt = try #require(object["raised_at"] as? String, sourceLocation: sourceLocation)
        #expect(ISO8601DateFormatter().date(from: raisedAt) != nil, "raised_at is an ISO 8601 time", sourceLocation: sourceLocation)
        if resolved {
            let resolvedAt = try #require(object["resolved_at"] as? String, sourceLocation: sourceLocation)
            #expect(ISO8601DateFormatter().date(from: resolvedAt) != nil, sourceLocation: sourceLocation)
        } else {
            #expect(object["resolved_at"] is NSNull, sourceLocation: sourceLocation)
        }
    }

    /// After a resolve notice: gone from `open` (API and status), listed in `recent` with `resolved_at`.
    static func expectResolvedOverHTTP(_ live: LiveWarden, kind: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let (open, recent) = try await live.alerts()
        #expect(!open.contains { $0.kind == kind }, sourceLocation: sourceLocation)
        let resolved = try #require(recent.last { $0.kind == kind }, "\(kind) is among the recent alerts", sourceLocation: sourceLocation)
        #expect(resolved["resolved_at"] is String, sourceLocation: sourceLocation)
        let status = try await live.object("/api/status")
        #expect(!(status["alerts"] as? [[String: Any]] ?? []).contains { $0.kind == kind }, sourceLocation: sourceLocation)
    }

    /// The open alert of `kind` from `GET /api/alerts`, also listed by `GET /api/status`.
    static func openAlertOverHTTP(_ live: LiveWarden, kind: String,
                                  sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let (open, _) = try await live.alerts()
        let alert = try #require(open.first { $0.kind == kind }, "\(kind) is open in /api/alerts", sourceLocation: sourceLocation)
        #expect(alert["resolved_at"] is NSNull, sourceLocation: sourceLocation)
        let status = try await live.object("/api/status")
        #expect((status["alerts"] as? [[String: Any]] ?? []).contains { $0.kind == kind }, "and in /api/status",
                sourceLocation: sourceLocation)
        return alert
    }

    /// One linked Auth user (id 1, group Corp_WYE) for a new member "alice" who has no roles yet.
    static func alice(_ discord: FakeDiscord) -> [(AuthUser, Snowflake?)] {
        [(LiveWarden.user(1, groups: ["Corp_WYE"]), discord.addMember(username: "alice").user!.id)]
    }

    static func bot(_ status: [String: Any]) -> [String: Any] { status["bot"] as? [String: Any] ?? [:] }

    @Test func theBotRoleMovedDownRaisesBotRoleNotTopAndMovingItBackResolvesIt() async throws {
        try await LiveWarden.with { live in
            try await live.waitUntilReady()
            #expect(Self.bot(try await live.object("/api/status"))["top"] as? Bool == true)

            try live.discord.moveBotRoleToBottom()
            let raised = try await live.webhook.waitForNotice("bot_role_not_top", resolved: false)
            try Self.expectAlertObject(raised, kind: "bot_role_not_top", severity: "warning", resolved: false)
            let alert = try await Self.openAlertOverHTTP(live, kind: "bot_role_not_top")
            let above = (alert["details"] as? [String: Any])?["roles"] as? [String] ?? []
            #expect(above.contains("Recruiter") && above.contains("Member"), "names the roles above the bot: \(above)")
            #expect(Self.bot(try await live.object("/api/status"))["top"] as? Bool == false)

            try live.discord.moveBotRoleToTop()
            let resolved = try await live.webhook.waitForNotice("bot_role_not_top", resolved: true)
            try Self.expectAlertObject(resolved, kind: "bot_role_not_top", severity: "warning", resolved: true)
            try await Self.expectResolvedOverHTTP(live, kind: "bot_role_not_top")
            #expect(Self.bot(try await live.object("/api/status"))["top"] as? Bool == true)
            #expect(live.webhook.received.filter { $0.kind == "bot_role_not_top" }.count == 2, "raised once, resolved once")
        }
    }

    @Test func aPermissionTakenFromTheBotRaisesMissingPermissionsUntilRestored() async throws {
        try await LiveWarden.with { live in
            try await live.waitUntilReady()
            let botRole = try #require(live.discord.botRole)
            #expect(Self.bot(try await live.object("/api/status"))["missing_permissions"] as? [String] == [])

            try live.discord.setRolePermissions(botRole.id, Permissions.wardenRequired.subtracting(.kickMembers))
            let raised = try await live.webhook.waitForNotice("missing_permissions", resolved: false)
            try Self.expectAlertObject(raised, kind: "missing_permissions", severity: "critical", resolved: false)
            let alert = try await Self.openAlertOverHTTP(live, kind: "missing_permissions")
            #expect((alert["details"] as? [String: Any])?["missing"] as? [String] == ["KICK_MEMBERS"])
            #expect((alert["message"] as? String)?.contains("KICK_MEMBERS") == true)
            #expect(Self.bot(try await live.object("/api/status"))["missing_permissions"] as? [String] == ["KICK_MEMBERS"])

            try live.discord.setRolePermissions(botRole.id, .wardenRequired)
            let resolved = try await live.webhook.waitForNotice("missing_permissions", resolved: true)
            try Self.expectAlertObject(resolved, kind: "missing_permissions", severity: "critical", resolved: true)
            try await Self.expectResolvedOverHTTP(live, kind: "missing_permissions")
            #expect(Self.bot(try await live.object("/api/status"))["missing_permissions"] as? [String] == [])
        }
    }

    /// SPEC 1.6: raised when Discord answers 60003 (the guild requires 2FA, the bot owner has none),
    /// resolved when the guild drops the requirement; the refused correction is then made.
    @Test func aGuildRequiring2FAWithA2FALessOwnerRaisesTwoFactorRequiredOnTheRefusedWrite() async throws {
        try await LiveWarden.with(users: Self.alice) { live in
            let discord = live.discord
            let alice = try #require(discord.members.first { $0.user?.username == "alice" }?.user?.id)
            let member = try #require(discord.role(named: "Member")).id
            let corp = try #require(discord.role(named: "Corp_WYE")).id
            try await live.waitUntilReady()
            try await live.eventually("alice's roles") { Set(discord.member(alice)?.roles ?? []) == [member, corp] }

            discord.setOwnerHasTwoFactor(false)
            discord.setMFALevel(.elevated)
            let mark = discord.requestCount
            try discord.removeRole(corp, from: alice)
            let refused = try await discord.waitForRequest(from: mark) { $0.path.hasSuffix("/members/\(alice)/roles/\(corp)") }
            let raised = try await live.webhook.waitForNotice("two_factor_required", resolved: false)
            try Self.expectAlertObject(raised, kind: "two_factor_required", severity: "critical", resolved: false)
            #expect(discord.response(toRequest: refused.index)?.status == 403)
            let alert = try await Self.openAlertOverHTTP(live, kind: "two_factor_required")
            #expect((alert["message"] as? String)?.contains("60003") == true)
            let skipped = try await live.object("/api/status")["skipped"] as? [[String: Any]] ?? []
            #expect(skipped.contains { ($0["user_id"] as? Int) == 1 }, "the refused member is listed: \(skipped)")

            discord.setMFALevel(.none)
            let resolved = try await live.webhook.waitForNotice("two_factor_required", resolved: true)
            try Self.expectAlertObject(resolved, kind: "two_factor_required", severity: "critical", resolved: true)
            try await Self.expectResolvedOverHTTP(live, kind: "two_factor_required")
            // The member refused meanwhile is corrected now.
            try await live.eventually("alice's role back") { Set(discord.member(alice)?.roles ?? []) == [member, corp] }
        }
    }

    /// A removed bot is not fatal (SPEC 3.1): Warden stays up with `bot_removed` open and recovers when
    /// the bot is added back.
    @Test func aRemovedBotRaisesBotRemovedAndReAddingItResolvesItAndEnforcementResumes() async throws {
        try await LiveWarden.with(users: Self.alice) { live in
            let discord = live.discord
            let alice = try #require(discord.members.first { $0.user?.username == "alice" }?.user?.id)
            let member = try #require(discord.role(named: "Member")).id
            let corp = try #require(discord.role(named: "Corp_WYE")).id
            try await live.waitUntilReady()
            try await live.eventually("alice's roles") { Set(discord.member(alice)?.roles ?? []) == [member, corp] }

            discord.removeBot()
            let raised = try await live.webhook.waitForNotice("bot_removed", resolved: false)
            try Self.expectAlertObject(raised, kind: "bot_removed", severity: "critical", resolved: false)
            let alert = try await Self.openAlertOverHTTP(live, kind: "bot_removed")
            #expect((alert["details"] as? [String: Any])?["guild_id"] as? String == discord.guildID.description)
            #expect(live.daemon.outcome == nil, "not fatal: the daemon keeps running")
            #expect((try await live.request(.get, "/healthz", token: "")).status == 200)

            let mark = discord.gatewayPayloads.count
            discord.addBot()
            let resolved = try await live.webhook.waitForNotice("bot_removed", resolved: true)
            try Self.expectAlertObject(resolved, kind: "bot_removed", severity: "critical", resolved: true)
            try await Self.expectResolvedOverHTTP(live, kind: "bot_removed")
            // The member cache is refilled (op 8) on the same session, without a new identify.
            _ = try await discord.waitForGatewayPayload(from: mark, timeout: .seconds(60)) { $0.op == 8 }
            #expect(discord.identifyCount == 1)

            // The install put the bot's role at the bottom; once a moderator drags it up, edits are corrected again.
            try discord.moveBotRoleToTop()
            try await live.eventually("the refilled cache") { await live.daemon.isReady() }
            try discord.removeRole(corp, from: alice)
            try await live.eventually("alice's role back") { Set(discord.member(alice)?.roles ?? []) == [member, corp] }
        }
    }

    /// Gateway closes 4004 (mid-session: the token was reset) and 4014 are fatal: the alert reaches the
    /// webhook before the daemon ends, stays readable over HTTP, and there is no reconnect.
    @Test(arguments: [(UInt16(4004), "auth_failed"), (UInt16(4014), "intents_disallowed")])
    func aFatalGatewayCloseRaisesItsAlertAndStopsTheDaemon(code: UInt16, kind: String) async throws {
        try await LiveWarden.with { live in
            try await live.waitUntilReady()
            live.discord.closeGatewayConnections(code: code)
            try await live.run.value
            guard case .fatal(let fatalKind, _) = live.daemon.outcome else {
                Issue.record("expected a fatal outcome, got \(String(describing: live.daemon.outcome))"); return
            }
            #expect(fatalKind.rawValue == kind)
            // Flushed before the daemon ended.
            let raised = try await live.webhook.waitForNotice(kind, resolved: false, timeout: .seconds(1))
            try Self.expectAlertObject(raised, kind: kind, severity: "critical", resolved: false)
            let (open, _) = try await live.alerts()
            #expect(open.contains { $0.kind == kind })
            #expect((try await live.request(.get, "/readyz", token: "")).status == 503)
            #expect(live.discord.identifyCount == 1, "no reconnect loop")
            #expect(live.discord.resumeCount == 0)
        }
    }
}
