import AuthStore
import DiscordFake
import DiscordModels
import DiscordREST
import Foundation
import WardenService

/// The narrated steps. Each prints what happens and waits for the real event; a step that does not
/// happen within the timeout fails and ends the script.
struct DemoScript: Sendable {
    let stage: DemoStage
    let timeout: Duration
    let say: @Sendable (String) -> Void

    var discord: FakeDiscord { stage.discord }

    /// Collected while playing, for the summary.
    final class Tally: @unchecked Sendable {
        // Only the one task playing the script touches it (steps run one after another).
        var latencies: [Duration] = []
    }

    /// Plays every step, then the summary. Returns whether every step passed.
    func play() async -> Bool {
        let tally = Tally()
        let steps: [@Sendable (Tally) async throws -> Void] = [
            { _ in try await initialAudit() },
            { try await manualEditReverted($0) },
            { _ in try await linkThroughOAuth() },
            { try await authGroupChange($0) },
            { _ in try await botRoleMoved() },
        ]
        var passed = 0
        for (title, step) in zip(WardenDemo.stepTitles, steps) {
            say("")
            say("== Step \(title)")
            do {
                try await step(tally)
                passed += 1
                say("   ✓ done")
            } catch {
                say("   ✗ step failed: \(error)")
                break
            }
        }
        await summary(passed: passed, tally: tally)
        return passed == steps.count
    }

    // MARK: - Steps

    func initialAudit() async throws {
        let daemon = stage.daemon
        try await waitUntil("the member cache to fill", timeout: timeout) {
            await daemon.status()?.cache.complete == true
        }
        let enforcer = stage.parts.enforcer
        try await waitUntil("the initial audit's writes to finish", timeout: timeout) { await enforcer.pendingWrites == 0 }
        guard let status = await daemon.status() else { throw DemoFailure("the daemon reports no status") }
        say("   gateway \(status.gatewayState), cache complete: \(status.cache.members) members, \(status.cache.roles) roles")

        let writes = memberWrites(from: stage.startRequestIndex)
        let corrected = Set(writes.compactMap { Self.memberID(in: $0.path) })
        say("   initial audit corrected \(corrected.count) members with \(writes.count) requests, e.g.:")
        for request in writes.prefix(4) {
            let reason = Self.reason(of: request)
            say("     \(activity(request))  (\"\(reason.count > 60 ? reason.prefix(59) + "…" : reason)\")")
        }
        if writes.count > 4 { say("     … and \(writes.count - 4) more") }

        for (userID, uid, user) in stage.linked {
            guard let member = discord.member(uid) else {
                if user.hasAccess { throw DemoFailure("linked user \(userID) is not in the guild") }
                continue
            }
            let names = roleNames(member.roles)
            let expected = Set([user.state] + user.groups)
            guard expected.isSubset(of: names) else {
                throw DemoFailure("\(user.username) has \(names.sorted()) after the audit, expected \(expected.sorted())")
            }
            let nick = DemoCast.nickname(user.mainCharacter?.characterName ?? "")
            guard member.nick == nick else {
                throw DemoFailure("\(user.username) is named \(member.nick ?? "nil") after the audit, expected \(nick)")
            }
        }
        say("   all \(stage.linked.count) linked members have their Auth roles and nicknames (\"\(DemoCast.nickname("…"))\")")
    }

    func manualEditReverted(_ tally: Tally) async throws {
        guard let (_, uid, user) = stage.linked.first(where: { $0.user.groups.contains("Corp_WYE") }),
              let corp = discord.role(named: "Corp_WYE") else { throw DemoFailure("no linked member in Corp_WYE") }
        let mark = discord.requestCount
        let start = ContinuousClock.now
        try discord.removeRole(corp.id, from: uid)
        say("   a moderator removes Corp_WYE from \(DemoCast.nickname(user.mainCharacter?.characterName ?? ""))")
        let fix = try await discord.waitForRequest(from: mark, timeout: timeout) {
            $0.method == "PUT" && $0.path.hasSuffix("/members/\(uid)/roles/\(corp.id)")
        }
        let latency = start.duration(to: fix.arrival)
        tally.latencies.append(latency)
        say("   Warden: \(activity(fix))  (reason \"\(Self.reason(of: fix))\")")
        say("   corrected \(latency.millisecondsText) after the moderator's edit")
        try await waitUntil("Corp_WYE back on the member", timeout: timeout) {
            discord.member(uid)?.roles.contains(corp.id) == true
        }
    }

    func linkThroughOAuth() async throws {
        let newcomer = DemoCast.newcomer
        let account = discord.registerUser(username: newcomer.username, globalName: newcomer.name)
        discord.setConsentUser(account.id)
        let mark = discord.requestCount

        // Auth asks Warden for the user's activation link (the admin API).
        let headers: HTTPHeaders = ["Authorization": "Bearer \(stage.adminToken)", "Content-Type": "application/json"]
        let issued = try await DemoHTTP.send(.post, "\(stage.adminURL)/api/users/\(newcomer.id)/discord/activation-link",
                                             headers: headers, body: [])
        guard issued.status == 200,
              let json = try? JSONSerialization.jsonObject(with: Data(issued.body)) as? [String: Any],
              let link = json["url"] as? String else {
            throw DemoFailure("POST /api/users/\(newcomer.id)/discord/activation-link answered \(issued.status)")
        }
        say("   Auth: POST /api/users/\(newcomer.id)/discord/activation-link → 200 (a signed link, valid 15 minutes, once)")

        // The user opens it: Warden sends them to Discord's consent page.
        let activate = try await DemoHTTP.send(.get, link)
        guard activate.status == 302 || activate.status == 303, let authorize = activate.headers["Location"],
              authorize.hasPrefix(discord.authorizeURL) else {
            throw DemoFailure("GET /discord/activate answered \(activate.status), not a redirect to Discord's authorize page")
        }
        // The browser keeps the cookie Warden set: the callback accepts the state only with it.
        let cookie = activate.headers["Set-Cookie"].map { String($0.prefix { $0 != ";" }) }
        say("   \(newcomer.username): GET /discord/activate → \(activate.status) to Discord's authorize page (and a cookie)")

        // They approve; Discord sends them back to Warden's callback with a code.
        guard let callback = discord.consent(toAuthorizeURL: authorize), callback.hasPrefix(stage.adminURL) else {
            throw DemoFailure("the fake's consent page refused the authorize URL")
        }
        say("   \(newcomer.username) approves: Discord redirects to Warden's callback with a code")
        let done = try await DemoHTTP.send(.get, callback, headers: cookie.map { ["Cookie": $0] } ?? [:])
        guard done.status == 200 || done.status == 302 || done.status == 303 else {
            throw DemoFailure("the OAuth callback answered \(done.status): \(String(decoding: done.body.prefix(200), as: UTF8.self))")
        }
        say("   callback → \(done.status); Warden's requests to Discord:")
        for request in discord.requests.dropFirst(mark) { say("     \(activity(request))") }

        let expected = Set(["Member"] + newcomer.groups)
        let nick = DemoCast.nickname(newcomer.name)
        try await waitUntil("the newcomer in the guild with roles and nickname", timeout: timeout) {
            guard let member = discord.member(account.id) else { return false }
            return expected.isSubset(of: roleNames(member.roles)) && member.nick == nick
        }
        let member = discord.member(account.id)
        say("   \(newcomer.username) joined as \"\(member?.nick ?? "")\" with roles \(roleNames(member?.roles ?? []).sorted().joined(separator: ", "))")
    }

    func authGroupChange(_ tally: Tally) async throws {
        guard let (_, uid, user) = stage.linked.first, let fleet = discord.role(named: "Fleet Commanders") else {
            throw DemoFailure("no linked member")
        }
        var changed = user
        changed.groups.append("Fleet Commanders")
        let mark = discord.requestCount
        let start = ContinuousClock.now
        _ = try await stage.parts.store.upsert(changed)
        say("   Auth: \(user.username) joins the group Fleet Commanders")
        let write = try await discord.waitForRequest(from: mark, timeout: timeout) {
            $0.method == "PUT" && $0.path.hasSuffix("/members/\(uid)/roles/\(fleet.id)")
        }
        let latency = start.duration(to: write.arrival)
        tally.latencies.append(latency)
        say("   Warden: \(activity(write))  (reason \"\(Self.reason(of: write))\")")
        say("   applied \(latency.millisecondsText) after Auth's change")
        try await waitUntil("Fleet Commanders on the member", timeout: timeout) {
            discord.member(uid)?.roles.contains(fleet.id) == true
        }
    }

    func botRoleMoved() async throws {
        let alerts = stage.parts.alerts
        try discord.moveBotRoleToBottom()
        let moved = ContinuousClock.now
        say("   a moderator drags the bot's role to the bottom of the role list")
        try await waitUntil("the bot_role_not_top alert", timeout: timeout) { alerts.isOpen(.botRoleNotTop) }
        let message = alerts.open.first { $0.kind == .botRoleNotTop }?.message ?? ""
        say("   alert raised after \(moved.duration(to: .now).millisecondsText) (debounced): bot_role_not_top: \(message)")

        try discord.moveBotRoleToTop()
        let back = ContinuousClock.now
        say("   the bot's role is moved back to the top")
        try await waitUntil("the bot_role_not_top alert to resolve", timeout: timeout) { !alerts.isOpen(.botRoleNotTop) }
        say("   alert resolved after \(back.duration(to: .now).millisecondsText)")
    }

    // MARK: - Summary

    func summary(passed: Int, tally: Tally) async {
        let requests = discord.requests.dropFirst(stage.startRequestIndex)
        let writes = memberWrites(from: stage.startRequestIndex)
        let status = await stage.daemon.status()
        say("")
        say("== Summary")
        say("   steps passed: \(passed)/\(WardenDemo.stepTitles.count)")
        say("   requests to Discord: \(requests.count) (\(writes.count) member writes), refused: \(discord.invalidRequestCount)")
        if let status {
            say("   linked users: \(status.enforcement.linkedUsers), open alerts: \(status.alerts.count), writes pending: \(status.enforcement.pendingWrites)")
        }
        if let p50 = median(tally.latencies) {
            say("   correction latency p50: \(p50.millisecondsText) over \(tally.latencies.count) corrections")
        }
    }

    // MARK: - Reading the fake

    /// Member writes (role PUT/DELETE, PATCH, kick) since `index`.
    func memberWrites(from index: Int) -> [RecordedRequest] {
        discord.requests.dropFirst(index).filter { $0.method != "GET" && $0.path.contains("/members/") }
    }

    /// The fake's one-line description of a request and its answer.
    func activity(_ request: RecordedRequest) -> String {
        if let response = discord.response(toRequest: request.index) { return FakeActivity.response(response).description }
        return FakeActivity.request(request).description
    }

    func roleNames(_ ids: [Snowflake]) -> Set<String> {
        Set(ids.compactMap { discord.role($0)?.name })
    }

    static func memberID(in path: String) -> Substring? {
        let parts = path.split(separator: "/")
        guard let index = parts.firstIndex(of: "members"), index + 1 < parts.count else { return nil }
        return parts[index + 1]
    }

    static func reason(of request: RecordedRequest) -> String {
        let raw = request.header("X-Audit-Log-Reason") ?? ""
        return raw.removingPercentEncoding ?? raw
    }
}
