import AuthModels
import AuthStore
import DiscordFake
import DiscordModels
import DiscordREST
import Foundation
import GRDB
import Testing

/// The OAuth linking flow of the whole daemon (real HTTP server, real libcurl, SQLite) against
/// DiscordFake, driven as browsers would drive it: concurrent callbacks (SPEC 1.9) and a store that
/// fails after Discord added the member.
@Suite(.serialized, .timeLimit(.minutes(3))) struct LinkingIntegrationTests {
    /// One browser's way through the flow up to Discord's consent: the activation link opened, its
    /// cookie kept, Discord's answer (the callback URL with `code` and `state`) in hand.
    struct Consented {
        var callbackPath: String
        var cookie: String?
    }

    struct FlowFailed: Error, CustomStringConvertible {
        var description: String
    }

    /// Asks Warden for the user's activation link, opens it like a browser (keeping the cookie it sets)
    /// and has `account` consent on the fake's authorize page.
    static func consent(_ live: LiveWarden, userID: Int64, as account: Snowflake) async throws -> Consented {
        let link = try await live.request(.post, "/api/users/\(userID)/discord/activation-link")
        guard link.status == 200, let object = try JSONSerialization.jsonObject(with: Data(link.body)) as? [String: Any],
              let url = (object["url"] as? String).flatMap(URLComponents.init(string:)) else {
            throw FlowFailed(description: "activation link answered \(link.status)")
        }
        let activate = try await live.request(.get, url.path + "?" + (url.percentEncodedQuery ?? ""), token: "")
        guard activate.status == 302, let authorize = activate.headers["Location"] else {
            throw FlowFailed(description: "activate answered \(activate.status)")
        }
        let cookie = activate.headers.values(for: "Set-Cookie").first.map { String($0.prefix { $0 != ";" }) }
        live.discord.setConsentUser(account)
        guard let back = live.discord.consent(toAuthorizeURL: authorize), let callback = URLComponents(string: back) else {
            throw FlowFailed(description: "the fake refused the authorize URL")
        }
        return Consented(callbackPath: callback.path + "?" + (callback.percentEncodedQuery ?? ""), cookie: cookie)
    }

    /// The browser comes back from Discord to the callback.
    static func callback(_ live: LiveWarden, _ consented: Consented) async throws -> Int {
        var headers: HTTPHeaders = [:]
        if let cookie = consented.cookie { headers.add(name: "Cookie", value: cookie) }
        let answer = try await live.client.send(HTTPRequest(method: .get, url: live.baseURL + consented.callbackPath,
                                                            headers: headers, timeout: .seconds(60)))
        return answer.status
    }

    /// The Discord account Warden has stored for the user (`GET /api/users/{id}`), or nil.
    static func linkedAccount(_ live: LiveWarden, userID: Int64) async throws -> Snowflake? {
        let overview = try await live.object("/api/users/\(userID)")
        return ((overview["discord"] as? [String: Any])?["uid"] as? String).flatMap { Snowflake($0) }
    }

    static func notificationKinds(_ live: LiveWarden, userID: Int64) async throws -> [String] {
        let answer = try await live.request(.get, "/api/notifications?user_id=\(userID)")
        let list = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [[String: Any]] ?? []
        return list.compactMap { $0["kind"] as? String }
    }

    static func user(_ id: Int64) -> AuthUser {
        AuthUser(id: id, username: "pilot\(id)", state: "Member", groups: ["Corp_WYE"], canAccessDiscord: true)
    }

    static let rounds: [Int64] = Array(101...106)
    static let warmUpUser: Int64 = 100

    /// One ordinary link first. Until Discord's first answer on an OAuth route teaches the limiter its
    /// bucket, requests on that route go one at a time, so the barrier on `/users/@me` could never hold
    /// two; after this, they run side by side as they do in a Warden that has linked before.
    static func warmUp(_ live: LiveWarden) async throws {
        let account = live.discord.registerUser(username: "warm_up")
        let status = try await callback(live, try await consent(live, userID: warmUpUser, as: account.id))
        #expect(status == 200)
    }

    @Test("two Discord accounts for one Auth user at once: one is linked and added, the other gets 409 and is never added")
    func twoAccountsAtOnceAddOnlyOne() async throws {
        try await LiveWarden.with(users: { _ in ([Self.warmUpUser] + Self.rounds).map { (Self.user($0), nil) } }) { live in
            try await live.waitUntilReady()
            try await Self.warmUp(live)
            let discord = live.discord
            for userID in Self.rounds {
                let first = discord.registerUser(username: "main\(userID)")
                let second = discord.registerUser(username: "alt\(userID)")
                let one = try await Self.consent(live, userID: userID, as: first.id)
                let two = try await Self.consent(live, userID: userID, as: second.id)
                let adds = discord.requests.count { $0.method == "PUT" && ($0.path.hasSuffix("/members/\(first.id)") || $0.path.hasSuffix("/members/\(second.id)")) }
                #expect(adds == 0)

                // Both callbacks have read their account from Discord before either goes on: the check
                // that once let both through ("already linked?") now runs for both at the same moment.
                discord.gatherRequests(to: .getCurrentUser, count: 2)
                async let a = Self.callback(live, one)
                async let b = Self.callback(live, two)
                let statuses = try await [a, b].sorted()

                #expect(statuses == [200, 409], "user \(userID): \(statuses)")
                let inGuild = [first.id, second.id].filter { discord.member($0) != nil }
                #expect(inGuild.count == 1, "user \(userID): accounts in the guild: \(inGuild)")
                let putRequests = discord.requests.count { $0.method == "PUT" && ($0.path.hasSuffix("/members/\(first.id)") || $0.path.hasSuffix("/members/\(second.id)")) }
                #expect(putRequests == 1, "user \(userID): member adds sent: \(putRequests)")
                let linked = try await Self.linkedAccount(live, userID: userID)
                #expect(linked != nil && linked == inGuild.first, "user \(userID): linked \(String(describing: linked))")
                #expect(try await Self.notificationKinds(live, userID: userID).contains("link_refused"))
            }
        }
    }

    @Test("the same Discord account twice at once is simply linked")
    func theSameAccountTwiceAtOnceIsLinked() async throws {
        try await LiveWarden.with(users: { _ in [(Self.user(Self.warmUpUser), nil), (Self.user(201), nil)] }) { live in
            try await live.waitUntilReady()
            try await Self.warmUp(live)
            let discord = live.discord
            let account = discord.registerUser(username: "twice")
            let one = try await Self.consent(live, userID: 201, as: account.id)
            let two = try await Self.consent(live, userID: 201, as: account.id)
            discord.gatherRequests(to: .getCurrentUser, count: 2)
            async let a = Self.callback(live, one)
            async let b = Self.callback(live, two)
            let statuses = try await [a, b]
            #expect(statuses == [200, 200])
            #expect(discord.member(account.id) != nil)
            #expect(try await Self.linkedAccount(live, userID: 201) == account.id)
            #expect(try await Self.notificationKinds(live, userID: 201).isEmpty)
        }
    }

    @Test("a store that fails after Discord added the member: the account is kicked again, nothing is linked")
    func aStoreFailureAfterTheAddKicksTheAccount() async throws {
        try await LiveWarden.with(users: { _ in [(Self.user(301), nil)] }) { live in
            try await live.waitUntilReady()
            let discord = live.discord
            let account = discord.registerUser(username: "unlucky")
            let consented = try await Self.consent(live, userID: 301, as: account.id)

            // The store refuses every new link from now on (as a full disk would), behind Warden's back.
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            let database = try DatabaseQueue(path: live.directory.appendingPathComponent("warden.sqlite3").path,
                                             configuration: configuration)
            try await database.write { db in
                try db.execute(sql: """
                    CREATE TRIGGER refuse_links BEFORE INSERT ON discord_link
                    BEGIN SELECT RAISE(ABORT, 'injected store failure'); END
                    """)
            }
            try database.close()

            let status = try await Self.callback(live, consented)
            #expect(status == 500)
            let memberPath = "/members/\(account.id)"
            let writes = discord.requests.filter { $0.path.hasSuffix(memberPath) && ["PUT", "DELETE"].contains($0.method) }.map(\.method)
            #expect(writes == ["PUT", "DELETE"], "added, then kicked again: \(writes)")
            #expect(discord.member(account.id) == nil)
            #expect(try await Self.linkedAccount(live, userID: 301) == nil)
        }
    }
}
