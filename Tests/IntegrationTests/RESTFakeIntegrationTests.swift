import DiscordFake
import DiscordModels
import DiscordREST
import Foundation
import Testing

/// Warden's REST client over the real libcurl transport against DiscordFake: what goes on the wire,
/// how Discord's refusals map to errors, and how the rate limiter and retries behave on real time.
@Suite("REST client against DiscordFake", .timeLimit(.minutes(3)))
struct RESTFakeIntegrationTests {
    /// Runs `body` with a client (real `CurlHTTPTransport`, continuous clock) pointed at `fake`. The request
    /// timeout is generous: on a loaded machine a request can take over 10 s, and a timed-out request is
    /// retried, which would add requests a test counts.
    func withClient<T>(_ fake: FakeDiscord, token: Secret? = nil, maxRetries: Int = 3,
                       retryPause: Duration = .milliseconds(20), requestTimeout: Duration = .seconds(60),
                       observer: (any RESTObserver)? = nil,
                       _ body: (DiscordRESTClient) async throws -> T) async throws -> T {
        let transport = try CurlHTTPTransport()
        defer { transport.shutdown() }
        let configuration = DiscordRESTConfiguration(botToken: token ?? fake.botToken, apiBaseURL: fake.apiBaseURL,
                                                     maxRetries: maxRetries, retryPause: retryPause,
                                                     requestTimeout: requestTimeout)
        let client = DiscordRESTClient(configuration: configuration, transport: transport, clock: ContinuousClock(),
                                       observer: observer)
        return try await body(client)
    }

    static let userAgent = "DiscordBot (\(DiscordRESTConfiguration.projectURL), 0.1.0)"

    /// The error a call threw, as a `DiscordRESTError` (nil when it succeeded or threw something else).
    func restError(_ call: () async throws -> Void) async -> DiscordRESTError? {
        do {
            try await call()
            return nil
        } catch {
            return error as? DiscordRESTError
        }
    }

    // MARK: 1. Every endpoint

    @Test("reads: gateway/bot, users/@me, guild, roles, member, paged member list")
    func reads() async throws {
        var seed = FakeSeed()
        seed.generatedMembers = 1100
        try await withFake(seed: seed) { fake in
            try await withClient(fake) { client in
                let gateway = try await client.getGatewayBot()
                #expect(gateway.url == fake.gatewayURL)
                #expect(gateway.sessionStartLimit.maxConcurrency == 1)

                let me = try await client.getCurrentUser()
                #expect(me.id == fake.botUser.id)

                let guild = try await client.getGuild(fake.guildID)
                #expect(guild.id == fake.guildID)
                #expect(guild.ownerID == fake.ownerID)

                let roles = try await client.getGuildRoles(fake.guildID)
                #expect(Set(roles.map(\.id)) == Set(fake.roles.map(\.id)))

                let someone = try #require(fake.ordinaryMemberIDs.first)
                let member = try await client.getGuildMember(fake.guildID, user: someone)
                #expect(member == fake.member(someone))

                let all = try await client.listAllGuildMembers(fake.guildID)
                #expect(all.count == fake.memberCount)
                #expect(all.count > 1000)
                #expect(Set(all.compactMap(\.user?.id)) == Set(fake.members.compactMap(\.user?.id)))

                let requests = fake.requests
                let prefix = "/api/v10"
                #expect(requests.map { "\($0.method) \($0.path)" } == [
                    "GET \(prefix)/gateway/bot", "GET \(prefix)/users/@me", "GET \(prefix)/guilds/\(fake.guildID)",
                    "GET \(prefix)/guilds/\(fake.guildID)/roles", "GET \(prefix)/guilds/\(fake.guildID)/members/\(someone)",
                    "GET \(prefix)/guilds/\(fake.guildID)/members", "GET \(prefix)/guilds/\(fake.guildID)/members",
                ])
                let firstPage = all.prefix(1000).compactMap(\.user?.id).max()!
                #expect(requests[5].query == "limit=1000")
                #expect(requests[6].query == "limit=1000&after=\(firstPage)")
                for request in requests {
                    #expect(request.header("Authorization") == "Bot \(fake.botToken.revealed)")
                    #expect(request.header("User-Agent") == Self.userAgent)
                    #expect(request.header("X-Audit-Log-Reason") == nil)
                    #expect(request.header("Content-Length") == nil)
                }
                #expect(fake.responses.allSatisfy { $0.status == 200 })
            }
        }
    }

    @Test("writes: create role, modify member, add/remove role, with the reason percent-encoded")
    func writes() async throws {
        var seed = FakeSeed()
        seed.generatedMembers = 5
        try await withFake(seed: seed) { fake in
            try await withClient(fake) { client in
                let reason = "Auth sync: Blue/é"
                let encoded = "Auth%20sync%3A%20Blue%2F%C3%A9"
                let blue = try #require(fake.role(named: "Blue"))
                let member = try #require(fake.ordinaryMemberIDs.first)

                let created = try await client.createGuildRole(fake.guildID, name: "Warden Made", reason: reason)
                #expect(fake.role(named: "Warden Made")?.id == created.id)

                let edited = try await client.modifyGuildMember(fake.guildID, user: member, roles: [blue.id],
                                                                nick: .set("Batman"), reason: reason)
                #expect(edited?.roles == [blue.id])
                #expect(edited?.nick == "Batman")
                #expect(fake.member(member)?.roles == [blue.id])
                #expect(fake.member(member)?.nick == "Batman")

                try await client.modifyGuildMember(fake.guildID, user: member, nick: .reset, reason: reason)
                #expect(fake.member(member)?.nick == nil)

                let recruiter = try #require(fake.role(named: "Recruiter"))
                try await client.addGuildMemberRole(fake.guildID, user: member, role: recruiter.id, reason: reason)
                #expect(fake.member(member)?.roles.contains(recruiter.id) == true)
                try await client.removeGuildMemberRole(fake.guildID, user: member, role: blue.id, reason: reason)
                #expect(fake.member(member)?.roles == [recruiter.id])

                let requests = fake.requests
                let guildPath = "/api/v10/guilds/\(fake.guildID)"
                #expect(requests.map { "\($0.method) \($0.path)" } == [
                    "POST \(guildPath)/roles", "PATCH \(guildPath)/members/\(member)", "PATCH \(guildPath)/members/\(member)",
                    "PUT \(guildPath)/members/\(member)/roles/\(recruiter.id)",
                    "DELETE \(guildPath)/members/\(member)/roles/\(blue.id)",
                ])
                for request in requests {
                    #expect(request.header("Authorization") == "Bot \(fake.botToken.revealed)")
                    #expect(request.header("User-Agent") == Self.userAgent)
                    #expect(request.header("X-Audit-Log-Reason") == encoded)
                }
                let json = { (index: Int) in
                    (try? JSONSerialization.jsonObject(with: Data(requests[index].body))) as? [String: Any]
                }
                #expect(json(0)?["name"] as? String == "Warden Made")
                #expect(requests[0].header("Content-Type") == "application/json")
                #expect(json(1)?["roles"] as? [String] == [blue.id.description])
                #expect(json(1)?["nick"] as? String == "Batman")
                #expect(json(2)?["nick"] is NSNull)
                #expect(json(2)?["roles"] == nil)
                // The body-less PUT carries Content-Length: 0 (else Discord's edge answers 411) and no type.
                #expect(requests[3].header("Content-Length") == "0")
                #expect(requests[3].header("Content-Type") == nil)
                #expect(requests[3].body.isEmpty)
                #expect(fake.responses.map(\.status) == [200, 200, 200, 204, 204])
            }
        }
    }

    @Test("OAuth: code exchange, Bearer users/@me, add member 201 then 204, kick")
    func oauthAddMemberAndKick() async throws {
        try await withFake { fake in
            try await withClient(fake) { client in
                let app = fake.application
                let user = fake.registerUser(username: "clark_kent", globalName: "Clark Kent")
                fake.setConsentUser(user.id)
                let redirect = "http://127.0.0.1:8080/discord/callback/"
                let authorize = fake.authorizeURL + "?response_type=code&client_id=\(app.id)&scope=identify%20guilds.join"
                    + "&state=s1&redirect_uri=" + redirect.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let location = try #require(fake.consent(toAuthorizeURL: authorize))
                let code = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "code" }?.value)

                let token = try await client.exchangeAuthorizationCode(code, redirectURI: redirect, clientID: app.id.description,
                                                                       clientSecret: app.secret)
                #expect(token.tokenType == "Bearer")
                #expect(token.scope.contains("guilds.join"))

                let me = try await client.getCurrentUser(accessToken: token.accessToken)
                #expect(me.id == user.id)

                let blue = try #require(fake.role(named: "Blue"))
                let added = try await client.addGuildMember(fake.guildID, user: user.id, accessToken: token.accessToken,
                                                            roles: [blue.id], nick: "Clark", reason: "linked")
                guard case .added(let member) = added else {
                    Issue.record("expected 201 added, got \(added)")
                    return
                }
                #expect(member.user?.id == user.id)
                #expect(member.roles == [blue.id])
                #expect(member.nick == "Clark")
                let again = try await client.addGuildMember(fake.guildID, user: user.id, accessToken: token.accessToken,
                                                            reason: "linked")
                #expect(again == .alreadyMember)

                try await client.removeGuildMember(fake.guildID, user: user.id, reason: "unlinked")
                #expect(fake.member(user.id) == nil)

                let requests = fake.requests
                let memberPath = "/api/v10/guilds/\(fake.guildID)/members/\(user.id)"
                #expect(requests.map { "\($0.method) \($0.path)" } == [
                    "POST /api/v10/oauth2/token", "GET /api/v10/users/@me", "PUT \(memberPath)", "PUT \(memberPath)",
                    "DELETE \(memberPath)",
                ])
                #expect(fake.responses.map(\.status) == [200, 200, 201, 204, 204])
                #expect(requests[0].header("Authorization") == nil)
                #expect(requests[0].header("Content-Type") == "application/x-www-form-urlencoded")
                #expect(requests[1].header("Authorization") == "Bearer \(token.accessToken.revealed)")
                for request in requests[2...] {
                    #expect(request.header("Authorization") == "Bot \(fake.botToken.revealed)")
                }
                #expect(requests.allSatisfy { $0.header("User-Agent") == Self.userAgent })
                #expect(requests[2].header("X-Audit-Log-Reason") == "linked")
                #expect(requests[4].header("X-Audit-Log-Reason") == "unlinked")
            }
        }
    }

    // MARK: 2. Error mapping

    @Test("401 → tokenInvalid, and no further request is sent")
    func unauthorizedStopsEverything() async throws {
        try await withFake { fake in
            try await withClient(fake, token: Secret("not-the-bot-token")) { client in
                let first = await restError { _ = try await client.getGuild(fake.guildID) }
                #expect(first == .tokenInvalid)
                #expect(fake.responses.map(\.status) == [401])
                let second = await restError { _ = try await client.getGatewayBot() }
                #expect(second == .tokenInvalid)
                #expect(await client.rateLimiter.standing().tokenInvalid)
                #expect(fake.requestCount == 1)
            }
        }
    }

    @Test("403 50013 (role above the bot), 403 60003, 404 10007, 404 10011, 50035 (nick > 32)")
    func refusalsMapToTheirErrors() async throws {
        var seed = FakeSeed()
        seed.generatedMembers = 3
        try await withFake(seed: seed) { fake in
            try await withClient(fake) { client in
                let member = try #require(fake.ordinaryMemberIDs.first)
                let blue = try #require(fake.role(named: "Blue"))

                let tooLong = await restError {
                    try await client.modifyGuildMember(fake.guildID, user: member, nick: .set(String(repeating: "n", count: 33)),
                                                       reason: "r")
                }
                #expect(tooLong?.status == 400)
                #expect(tooLong?.has(.invalidFormBody) == true)
                if case .http(let error)? = tooLong {
                    #expect(error.body?.fieldErrors.map(\.path) == ["nick"])
                } else {
                    Issue.record("expected an HTTP error, got \(String(describing: tooLong))")
                }

                let unknownMember = await restError { _ = try await client.getGuildMember(fake.guildID, user: Snowflake("12345")!) }
                #expect(unknownMember == .unknownMember)

                let unknownRole = await restError {
                    try await client.addGuildMemberRole(fake.guildID, user: member, role: Snowflake("999")!, reason: "r")
                }
                #expect(unknownRole?.status == 404)
                #expect(unknownRole?.has(.unknownRole) == true)

                try fake.moveBotRoleToBottom()
                let aboveBot = await restError {
                    try await client.addGuildMemberRole(fake.guildID, user: member, role: blue.id, reason: "r")
                }
                #expect(aboveBot?.status == 403)
                #expect(aboveBot?.has(.missingPermissions) == true)
                try fake.moveBotRoleToTop()

                fake.setMFALevel(.elevated)
                fake.setOwnerHasTwoFactor(false)
                let twoFactor = await restError {
                    try await client.addGuildMemberRole(fake.guildID, user: member, role: blue.id, reason: "r")
                }
                #expect(twoFactor?.status == 403)
                #expect(twoFactor?.has(.twoFactorRequired) == true)

                // Every refusal is permanent: one request each, none retried.
                #expect(fake.responses.map(\.status) == [400, 404, 404, 403, 403])
                #expect(fake.member(member)?.roles.contains(blue.id) == false)
            }
        }
    }

    // MARK: 3. Rate limits on real time

    @Test("a burst of 100 member edits stays within the learned bucket: zero 429s")
    func burstUsesTheBucketFully() async throws {
        var seed = FakeSeed()
        seed.generatedMembers = 110
        var configuration = FakeConfiguration()
        configuration.buckets = FakeConfiguration.observedBuckets(timeScale: 0.05)  // 10 per 500 ms
        let bucket = try #require(configuration.buckets[.modifyMember])
        try await withFake(configuration: configuration, seed: seed) { fake in
            let targets = Array(fake.ordinaryMemberIDs.prefix(100))
            try #require(targets.count == 100)
            try await withClient(fake) { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (index, id) in targets.enumerated() {
                        group.addTask {
                            try await client.modifyGuildMember(fake.guildID, user: id, nick: .set("Edit \(index)"), reason: "burst")
                        }
                    }
                    try await group.waitForAll()
                }
            }
            #expect(targets.enumerated().allSatisfy { fake.member($0.element)?.nick == "Edit \($0.offset)" })
            let patches = fake.requests.filter { $0.method == "PATCH" }
            #expect(patches.count == 100)
            #expect(fake.responses.filter { $0.status == 429 }.isEmpty)

            // Never faster than the learned limit allows: the fake enforces its buckets, so no 429 above
            // means no window got more than its limit; and 100 edits at 10 per window need at least nine
            // windows after the first. (How fully the bucket is used is warden-bench's
            // `bucket_utilization`: arrival gaps on a loaded machine are no test assertion.)
            let window = bucket.window
            let arrivals = patches.map(\.arrival).sorted()
            let span = arrivals.last! - arrivals.first!
            #expect(span >= window * 9 * 0.9, "span \(span)")
        }
    }

    @Test("the member bucket and the member-role bucket are used in parallel")
    func twoMemberBucketsInParallel() async throws {
        var seed = FakeSeed()
        seed.generatedMembers = 30
        var configuration = FakeConfiguration()
        configuration.buckets = FakeConfiguration.observedBuckets(timeScale: 0.05)  // 10 per 500 ms each
        let window = try #require(configuration.buckets[.modifyMember]).window
        try await withFake(configuration: configuration, seed: seed) { fake in
            let targets = Array(fake.ordinaryMemberIDs.prefix(20))
            let blue = try #require(fake.role(named: "Blue"))
            try await withClient(fake) { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for id in targets {
                        group.addTask { try await client.modifyGuildMember(fake.guildID, user: id, nick: .set("P"), reason: "p") }
                        group.addTask { try await client.addGuildMemberRole(fake.guildID, user: id, role: blue.id, reason: "r") }
                    }
                    try await group.waitForAll()
                }
            }
            #expect(fake.responses.filter { $0.status == 429 }.isEmpty)
            let patches = fake.requests.filter { $0.method == "PATCH" }.map(\.arrival).sorted()
            let puts = fake.requests.filter { $0.method == "PUT" }.map(\.arrival).sorted()
            #expect(patches.count == 20 && puts.count == 20)
            let start = min(patches.first!, puts.first!)
            let offsets = { (list: [ContinuousClock.Instant]) in list.map { Int(Double((($0 - start) / window) * 100).rounded()) } }
            let timeline = "PATCH at \(offsets(patches)), PUT at \(offsets(puts)) (% of a window)"
            // Both buckets in use at once: each bucket's first request arrives before the other bucket's
            // second window (one bucket after the other, one would start only after the other's 20th).
            #expect(puts[0] < patches[10], "\(timeline)")
            #expect(patches[0] < puts[10], "\(timeline)")
            #expect(targets.allSatisfy { fake.member($0)?.roles.contains(blue.id) == true && fake.member($0)?.nick == "P" })
        }
    }

    @Test("a global 429 pauses every route until retry_after, then all succeed")
    func global429PausesEverything() async throws {
        try await withFake { fake in
            let (limited, signal) = AsyncStream<RateLimitOutcome>.makeStream()
            let observer = RESTObserverClosure { report in if report.status == 429 { signal.yield(report.rateLimit) } }
            try await withClient(fake, observer: observer) { client in
                let retryAfter = Duration.milliseconds(600)
                fake.forceRateLimit(.init(kind: .global, retryAfter: retryAfter))
                let first = Task { try await client.getGuild(fake.guildID) }
                var reports = limited.makeAsyncIterator()
                // Read as a global block (whether it is still running when this line runs depends on the
                // machine's speed; the arrivals below show that every route waited it out).
                let outcome = await reports.next()
                guard case .rateLimited(_, global: true, _)? = outcome else { Issue.record("not a global block: \(String(describing: outcome))"); return }
                async let bot = client.getGatewayBot()
                async let roles = client.getGuildRoles(fake.guildID)
                _ = try await (bot, roles, first.value)

                let requests = fake.requests
                #expect(requests.count == 4)
                let statuses = fake.responses.map(\.status)
                #expect(statuses.first == 429 && statuses.dropFirst().allSatisfy { $0 == 200 }, "\(statuses)")
                #expect(fake.responses.first?.header("X-RateLimit-Global") != nil)
                let blockedAt = requests[0].arrival
                for request in requests.dropFirst() {
                    #expect(request.arrival - blockedAt >= retryAfter, "\(request) came \(request.arrival - blockedAt) after the 429")
                }
            }
        }
    }

    // MARK: 4. Ban, transient and permanent failures

    @Test("ban mode: a non-JSON 429 stops everything with cloudflareBan and nothing more is sent")
    func banStopsEverything() async throws {
        var seed = FakeSeed()
        seed.generatedMembers = 2
        var configuration = FakeConfiguration()
        configuration.invalidRequestThreshold = 3
        try await withFake(configuration: configuration, seed: seed) { fake in
            try await withClient(fake) { client in
                let member = try #require(fake.ordinaryMemberIDs.first)
                let blue = try #require(fake.role(named: "Blue"))
                try fake.moveBotRoleToBottom()
                var banned: DiscordRESTError?
                for _ in 0..<10 {
                    let error = await restError {
                        try await client.addGuildMemberRole(fake.guildID, user: member, role: blue.id, reason: "r")
                    }
                    if case .cloudflareBan? = error {
                        banned = error
                        break
                    }
                    #expect(error?.has(.missingPermissions) == true)
                }
                guard case .cloudflareBan(let retryAfter)? = banned else {
                    Issue.record("no Cloudflare ban after repeated 403s")
                    return
                }
                #expect(retryAfter > .zero)
                let last = try #require(fake.responses.last)
                #expect(last.status == 429)
                #expect(last.header("Via") == nil)
                let sent = fake.requestCount
                #expect(await client.rateLimiter.standing().cloudflareBanRemaining != nil)
                let calls: [() async throws -> Void] = [
                    { _ = try await client.getGuild(fake.guildID) },
                    { _ = try await client.getGatewayBot() },
                    { try await client.removeGuildMember(fake.guildID, user: member, reason: "r") },
                ]
                for call in calls {
                    let error = await restError(call)
                    guard case .cloudflareBan? = error else {
                        Issue.record("expected cloudflareBan, got \(String(describing: error))")
                        continue
                    }
                }
                #expect(fake.requestCount == sent)
            }
        }
    }

    @Test("5xx answers are retried to success with maxRetries and retryPause")
    func serverErrorsAreRetried() async throws {
        try await withFake { fake in
            try await withClient(fake, maxRetries: 3, retryPause: .milliseconds(50)) { client in
                fake.failNextRESTRequests(2, status: 502)
                let started = ContinuousClock.now
                let guild = try await client.getGuild(fake.guildID)
                let elapsed = ContinuousClock.now - started
                #expect(guild.id == fake.guildID)
                #expect(fake.responses.map(\.status) == [502, 502, 200])
                // Two retries, each after the pause.
                #expect(elapsed >= .milliseconds(100), "took \(elapsed)")

                // Beyond maxRetries the 5xx is the answer: 1 + 3 attempts, no more.
                fake.failNextRESTRequests(10, status: 503)
                let error = await restError { _ = try await client.getGuild(fake.guildID) }
                #expect(error?.status == 503)
                #expect(error?.isTransient == true)
                #expect(fake.requestCount == 3 + 4)
            }
        }
    }

    @Test("a hung request times out and is retried to success")
    func hangIsRetriedAfterTimeout() async throws {
        var configuration = FakeConfiguration()
        // The hung request is answered only when the fake stops: only the client's own timeout ends it.
        configuration.hangDuration = .seconds(3600)
        try await withFake(configuration: configuration) { fake in
            let reports = Locked<[RESTRequestReport]>([])
            let observer = RESTObserverClosure { report in reports.withLock { $0.append(report) } }
            // Long enough for an ordinary request on a loaded machine (1.5 s was not: every attempt timed out).
            try await withClient(fake, maxRetries: 3, retryPause: .milliseconds(20), requestTimeout: .seconds(30),
                                 observer: observer) { client in
                fake.hangNextRESTRequests(1)
                let bot = try await client.getGatewayBot()
                #expect(bot.url == fake.gatewayURL)
                // The hung request ended with the client's timeout, then the retry succeeded.
                let seen = reports.withLock { $0 }
                #expect(seen.map(\.transportError) == [.timeout, nil])
                #expect(seen.map(\.status) == [nil, 200])
                let requests = fake.requests
                #expect(requests.count == 2)
                #expect(requests.allSatisfy { $0.path == "/api/v10/gateway/bot" })
                #expect(fake.response(toRequest: 1)?.status == 200)
            }
        }
    }

    @Test("a permanent 403 is not retried: exactly one request")
    func permanentRefusalIsNotRetried() async throws {
        try await withFake { fake in
            try await withClient(fake, maxRetries: 3, retryPause: .milliseconds(10)) { client in
                let error = await restError {
                    try await client.modifyGuildMember(fake.guildID, user: fake.ownerID, nick: .set("Boss"), reason: "r")
                }
                #expect(error?.status == 403)
                #expect(error?.has(.missingPermissions) == true)
                #expect(error?.isTransient == false)
                #expect(fake.requestCount == 1)
                #expect(fake.member(fake.ownerID)?.nick == nil)
            }
        }
    }
}
