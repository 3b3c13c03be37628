@testable import DiscordREST
import DiscordFake
import DiscordModels
import Foundation
import Testing

/// The client's request building, retries and error mapping, over a fake transport and a `ManualClock`.
@Suite struct DiscordRESTClientTests {
    let g = Fixture.guild, u = Fixture.user, r = Fixture.role

    func client(_ transport: FakeHTTPTransport, _ clock: ManualClock = ManualClock(), maxRetries: Int = 3,
                observer: (any RESTObserver)? = nil) -> DiscordRESTClient {
        DiscordRESTClient(configuration: Fixture.configuration(maxRetries: maxRetries), transport: transport,
                          clock: clock, observer: observer)
    }

    static let noContent = HTTPResponse(status: 204)

    // MARK: Requests on the wire

    @Test func aWriteCarriesTheBotTokenUserAgentAndEncodedAuditLogReason() async throws {
        let transport = FakeHTTPTransport(Self.noContent)
        try await client(transport).addGuildMemberRole(g, user: u, role: r, reason: "Auth group: Fleet Commanders")
        let request = try #require(transport.requests.first)
        #expect(request.method == .put)
        #expect(request.url == "https://discord.test/api/v10/guilds/\(g)/members/\(u)/roles/\(r)")
        #expect(request.headers["authorization"] == "Bot \(Fixture.token.revealed)")
        #expect(request.headers["User-Agent"] == "DiscordBot (https://github.com/warden-bot/warden, 1.2.3)")
        #expect(request.headers["X-Audit-Log-Reason"] == "Auth%20group%3A%20Fleet%20Commanders")
        #expect(request.body == nil)  // the transport sends Content-Length: 0
        #expect(request.headers["Content-Type"] == nil)
        // The token never shows in a description.
        #expect(!"\(request)".contains(Fixture.token.revealed))
        #expect(!String(reflecting: request).contains(Fixture.token.revealed))
        var dumped = ""
        dump(request, to: &dumped)
        #expect(!dumped.contains(Fixture.token.revealed))
    }

    @Test func everyEndpointUsesItsMethodAndPath() async throws {
        let transport = FakeHTTPTransport([
            { _ in HTTPResponse(status: 200, body: Fixture.json(#"{"url":"wss://gateway.discord.gg","shards":1,"session_start_limit":{"total":1000,"remaining":999,"reset_after":14400000,"max_concurrency":1}}"#)) },
            { _ in HTTPResponse(status: 200, body: Fixture.json(#"{"id":"1","username":"warden","bot":true}"#)) },
            { _ in HTTPResponse(status: 200, body: Fixture.json(#"{"id":"81384788765712384","name":"G","owner_id":"2","roles":[]}"#)) },
            { _ in HTTPResponse(status: 200, body: Fixture.json(#"[{"id":"81384788765712384","name":"@everyone","position":0,"permissions":"0"}]"#)) },
            { _ in HTTPResponse(status: 200, body: Fixture.json(#"{"id":"5","name":"Fleet Commanders","position":1,"permissions":"0"}"#)) },
            { _ in HTTPResponse(status: 200, body: Fixture.json(Fixture.memberJSON)) },
            { _ in Self.noContent }, { _ in Self.noContent },
        ])
        let rest = client(transport)
        #expect(try await rest.getGatewayBot().url == "wss://gateway.discord.gg")
        #expect(try await rest.getCurrentUser().bot)
        #expect(try await rest.getGuild(g).name == "G")
        #expect(try await rest.getGuildRoles(g).count == 1)
        #expect(try await rest.createGuildRole(g, name: "Fleet Commanders", reason: "Auth group").name == "Fleet Commanders")
        #expect(try await rest.getGuildMember(g, user: u).nick == "Bruce")
        try await rest.removeGuildMemberRole(g, user: u, role: r, reason: "not in group")
        try await rest.removeGuildMember(g, user: u, reason: "no access")

        let seen = transport.requests.map { "\($0.method) \($0.url.replacingOccurrences(of: "https://discord.test/api/v10", with: ""))" }
        #expect(seen == [
            "GET /gateway/bot", "GET /users/@me", "GET /guilds/\(g)", "GET /guilds/\(g)/roles", "POST /guilds/\(g)/roles",
            "GET /guilds/\(g)/members/\(u)", "DELETE /guilds/\(g)/members/\(u)/roles/\(r)", "DELETE /guilds/\(g)/members/\(u)",
        ])
        let create = transport.requests[4]
        #expect(create.body == Fixture.json(#"{"name":"Fleet Commanders"}"#))
        #expect(create.headers["Content-Type"] == "application/json")
        // Reads carry no audit-log reason; every write does.
        #expect(transport.requests.map { $0.headers["X-Audit-Log-Reason"] != nil } == [false, false, false, false, true, false, true, true])
    }

    @Test func modifyGuildMemberSendsRolesAndNickAndAccepts200Or204() async throws {
        let transport = FakeHTTPTransport(responses: [HTTPResponse(status: 200, body: Fixture.json(Fixture.memberJSON)), Self.noContent])
        let rest = client(transport)
        let member = try await rest.modifyGuildMember(g, user: u, roles: [r, 7], nick: .set("[WYE] Bruce"), reason: "sync")
        #expect(member?.user?.id == u)
        let none = try await rest.modifyGuildMember(g, user: u, nick: .reset, reason: "sync")
        #expect(none == nil)
        let bodies = try transport.requests.map { try JSONDecoder().decode(JSONValue.self, from: Data(try #require($0.body))) }
        #expect(bodies[0] == .object(["roles": .array([.string("\(r)"), .string("7")]), "nick": .string("[WYE] Bruce")]))
        #expect(bodies[1] == .object(["nick": .null]))
        #expect(transport.requests.allSatisfy { $0.method == .patch })
        // Nothing to change: nothing sent.
        #expect(try await rest.modifyGuildMember(g, user: u, reason: "sync") == nil)
        #expect(transport.count == 2)
    }

    @Test func addGuildMemberTellsAddedFromAlreadyAMember() async throws {
        let transport = FakeHTTPTransport(responses: [HTTPResponse(status: 201, body: Fixture.json(Fixture.memberJSON)), Self.noContent])
        let rest = client(transport)
        let access = Secret("user-access-token-abc")
        let added = try await rest.addGuildMember(g, user: u, accessToken: access, roles: [r], nick: "Bruce", reason: "linked")
        guard case .added(let member) = added else { Issue.record("expected added, got \(added)"); return }
        #expect(member.roles == [r])
        #expect(try await rest.addGuildMember(g, user: u, accessToken: access, reason: "linked") == .alreadyMember)
        let first = transport.requests[0]
        #expect(first.method == .put && first.url.hasSuffix("/guilds/\(g)/members/\(u)"))
        #expect(first.headers["Authorization"] == "Bot \(Fixture.token.revealed)")
        let body = try JSONDecoder().decode(JSONValue.self, from: Data(try #require(first.body)))
        #expect(body == .object(["access_token": .string("user-access-token-abc"), "roles": .array([.string("\(r)")]), "nick": .string("Bruce")]))
    }

    @Test func theOAuth2CodeExchangeIsFormEncodedAndReturnsASecret() async throws {
        let transport = FakeHTTPTransport(HTTPResponse(status: 200, body: Fixture.json(
            #"{"access_token":"6qrZcUqja7812RVdnEKjpzOL4CvHBFG","token_type":"Bearer","expires_in":604800,"refresh_token":"D43f5y0ahjqew82jZ4NViEr2YafMKhue","scope":"identify guilds.join"}"#)))
        let token = try await client(transport).exchangeAuthorizationCode(
            "NhhvTDYsFcdgNLnnLijcl7Ku7bEEeee", redirectURI: "https://auth.example/discord/callback/",
            clientID: "157730590492196864", clientSecret: Secret("app secret & more"))
        #expect(token.accessToken.revealed == "6qrZcUqja7812RVdnEKjpzOL4CvHBFG")
        #expect(token.scope == "identify guilds.join")
        #expect(!"\(token)".contains("6qrZ"))
        let request = try #require(transport.requests.first)
        #expect(request.method == .post)
        #expect(request.url == "https://discord.test/api/v10/oauth2/token")
        #expect(request.headers["Authorization"] == nil)
        #expect(request.headers["Content-Type"] == "application/x-www-form-urlencoded")
        #expect(String(decoding: try #require(request.body), as: UTF8.self) ==
                "grant_type=authorization_code&code=NhhvTDYsFcdgNLnnLijcl7Ku7bEEeee&redirect_uri=https%3A%2F%2Fauth.example%2Fdiscord%2Fcallback%2F&client_id=157730590492196864&client_secret=app%20secret%20%26%20more")
    }

    @Test func anOAuth2ErrorIsTypedAndShowsNoBody() async throws {
        let transport = FakeHTTPTransport(HTTPResponse(status: 400, body: Fixture.json(#"{"error":"invalid_grant","error_description":"Invalid \"code\" in request."}"#)))
        let error = await #expect(throws: DiscordRESTError.self) {
            try await client(transport).exchangeAuthorizationCode("c", redirectURI: "r", clientID: "1", clientSecret: Secret("s3cr3t"))
        }
        guard case .http(let http)? = error else { Issue.record("expected .http, got \(String(describing: error))"); return }
        #expect(http.oauthError == "invalid_grant")
        #expect(http.status == 400)
        #expect(error?.isTransient == false)
        #expect(transport.count == 1)
    }

    @Test func userReadsWithABearerToken() async throws {
        let transport = FakeHTTPTransport(HTTPResponse(status: 200, body: Fixture.json(#"{"id":"80351110224678912","username":"bruce","discriminator":"0"}"#)))
        let user = try await client(transport).getCurrentUser(accessToken: Secret("tok"))
        #expect(user.id == u)
        #expect(transport.requests.first?.headers["Authorization"] == "Bearer tok")
    }

    @Test func listAllGuildMembersPagesByTheLastUserID() async throws {
        let page1 = "[" + (1...3).map { Fixture.member(id: UInt64($0)) }.joined(separator: ",") + "]"
        let page2 = "[" + (4...5).map { Fixture.member(id: UInt64($0)) }.joined(separator: ",") + "]"
        let transport = FakeHTTPTransport(responses: [HTTPResponse(status: 200, body: Fixture.json(page1)),
                                                      HTTPResponse(status: 200, body: Fixture.json(page2))])
        let members = try await client(transport).listAllGuildMembers(g, pageSize: 3)
        #expect(members.compactMap(\.user?.id) == [1, 2, 3, 4, 5])
        #expect(transport.requests.map(\.url) == [
            "https://discord.test/api/v10/guilds/\(g)/members?limit=3",
            "https://discord.test/api/v10/guilds/\(g)/members?limit=3&after=3",
        ])
    }

    // MARK: Errors and retries

    @Test func aPermanentErrorIsReturnedAtOnceWithItsCode() async throws {
        let transport = FakeHTTPTransport(HTTPResponse(status: 403, body: Fixture.json(#"{"message": "Missing Permissions", "code": 50013}"#)))
        let error = await #expect(throws: DiscordRESTError.self) {
            try await client(transport).addGuildMemberRole(g, user: u, role: r, reason: "sync")
        }
        #expect(error?.has(.missingPermissions) == true)
        #expect(error?.status == 403)
        #expect(error?.isTransient == false)
        #expect(transport.count == 1)
        #expect("\(error!)" == "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id} answered 403: 50013 Missing Permissions")
    }

    @Test func unknownMemberIsItsOwnError() async throws {
        let transport = FakeHTTPTransport(HTTPResponse(status: 404, body: Fixture.json(#"{"message": "Unknown Member", "code": 10007}"#)))
        await #expect(throws: DiscordRESTError.unknownMember) {
            try await client(transport).getGuildMember(g, user: u)
        }
        // Unknown Role (10011) stays a plain 404 with its code.
        let roles = FakeHTTPTransport(HTTPResponse(status: 404, body: Fixture.json(#"{"message": "Unknown Role", "code": 10011}"#)))
        let error = await #expect(throws: DiscordRESTError.self) {
            try await client(roles).addGuildMemberRole(g, user: u, role: r, reason: "sync")
        }
        #expect(error?.has(.unknownRole) == true)
    }

    @Test func invalidFormBodyKeepsTheFieldErrors() async throws {
        let transport = FakeHTTPTransport(HTTPResponse(status: 400, body: Fixture.json(
            #"{"code":50035,"message":"Invalid Form Body","errors":{"nick":{"_errors":[{"code":"BASE_TYPE_BAD_LENGTH","message":"Must be between 1 and 32 in length."}]}}}"#)))
        let error = await #expect(throws: DiscordRESTError.self) {
            try await client(transport).modifyGuildMember(g, user: u, nick: .set(String(repeating: "x", count: 40)), reason: "sync")
        }
        guard case .http(let http)? = error else { Issue.record("expected .http"); return }
        #expect(http.code == .invalidFormBody)
        #expect(http.body?.fieldErrors.map(\.path) == ["nick"])
        #expect("\(http)".contains("nick: BASE_TYPE_BAD_LENGTH"))
    }

    @Test func aNonJSONErrorBodyIsKeptAsAShortExcerpt() async throws {
        let transport = FakeHTTPTransport(HTTPResponse(status: 411, body: Fixture.json("<html>\r\n<head><title>411 Length Required</title></head></html>")))
        let error = await #expect(throws: DiscordRESTError.self) {
            try await client(transport).removeGuildMember(g, user: u, reason: "gone")
        }
        guard case .http(let http)? = error else { Issue.record("expected .http"); return }
        #expect(http.body == nil)
        #expect(http.code == nil)
        #expect(http.excerpt.contains("411 Length Required"))
        #expect(!http.excerpt.contains("\n"))
    }

    @Test func transientFailuresAreRetriedMaxRetriesTimesRetryPauseApart() async throws {
        let clock = ManualClock()
        let transport = FakeHTTPTransport([
            { _ in throw HTTPTransportError.timeout },
            { _ in throw HTTPTransportError.network("connection reset") },
            { _ in HTTPResponse(status: 502, body: Fixture.json("<html>bad gateway</html>")) },
            { _ in HTTPResponse(status: 503) },
        ])
        let collector = ReportCollector()
        let rest = client(transport, clock, maxRetries: 3, observer: collector)
        let task = Task { try await rest.removeGuildMemberRole(g, user: u, role: r, reason: "sync") }
        for attempt in 1...3 {
            #expect(await transport.calls.wait(for: attempt))
            #expect(await clock.waitForSleep(within: .seconds(60)))
            clock.advance(by: .seconds(59))
            #expect(transport.count == attempt, "no retry before the pause is over")
            clock.advance(by: .seconds(1))
        }
        let result = await task.result
        #expect(transport.count == 4)
        guard case .failure(let error as DiscordRESTError) = result, case .http(let http) = error else {
            Issue.record("expected the last 5xx, got \(result)"); return
        }
        #expect(http.status == 503)
        #expect(error.isTransient)
        #expect(collector.all.map(\.status) == [nil, nil, 502, 503])
        #expect(collector.all.map(\.transportError) == [.timeout, .network("connection reset"), nil, nil])
        #expect(collector.all.map(\.attempt) == [1, 2, 3, 4])
        #expect(collector.all.allSatisfy { $0.route == "DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id}" })
    }

    @Test func aTransientFailureThenSuccessReturnsTheSuccess() async throws {
        let clock = ManualClock()
        let transport = FakeHTTPTransport([{ _ in throw HTTPTransportError.timeout }, { _ in Self.noContent }])
        let rest = client(transport, clock)
        let task = Task { try await rest.addGuildMemberRole(g, user: u, role: r, reason: "sync") }
        #expect(await clock.waitForSleep(within: .seconds(60)))
        clock.advance(by: .seconds(60))
        try await task.value
        #expect(transport.count == 2)
    }

    @Test func roleCreationIsNotRetriedAfterATimeout() async throws {
        let transport = FakeHTTPTransport([{ _ in throw HTTPTransportError.timeout }])
        await #expect(throws: DiscordRESTError.transport(.timeout)) {
            try await client(transport).createGuildRole(g, name: "FC", reason: "Auth group")
        }
        #expect(transport.count == 1)
    }

    @Test func a429IsRetriedAfterDiscordsRetryAfterThroughTheLimiter() async throws {
        let clock = ManualClock()
        var limited = Fixture.bucketHeaders("roles", limit: 10, remaining: 0, resetAfter: 1)
        limited.add(name: "Retry-After", value: "3")
        let transport = FakeHTTPTransport(responses: [
            HTTPResponse(status: 429, headers: limited, body: Fixture.json(#"{"message":"You are being rate limited.","retry_after":2.25,"global":false}"#)),
            HTTPResponse(status: 204, headers: Fixture.bucketHeaders("roles", limit: 10, remaining: 9, resetAfter: 10)),
        ])
        let collector = ReportCollector()
        let rest = client(transport, clock, observer: collector)
        let task = Task { try await rest.addGuildMemberRole(g, user: u, role: r, reason: "sync") }
        #expect(await clock.waitForSleep(within: .milliseconds(2250)))
        clock.advance(by: .milliseconds(2249))
        #expect(transport.count == 1)
        clock.advance(by: .milliseconds(1))
        try await task.value
        #expect(transport.count == 2)
        #expect(collector.all.last?.rateLimitWait == .milliseconds(2250))
        #expect(collector.all.first?.rateLimit == .rateLimited(retryAfter: .milliseconds(2250), global: false, shared: false))
    }

    @Test func a429RetryAfterLongerThanTheLimiterWaitsIsReturnedAsRateLimited() async throws {
        let transport = FakeHTTPTransport(HTTPResponse(status: 429, headers: ["X-RateLimit-Bucket": "create"],
                                                       body: Fixture.json(#"{"message":"x","retry_after":7200.5,"global":false}"#)))
        let error = await #expect(throws: DiscordRESTError.self) {
            try await client(transport).createGuildRole(g, name: "FC", reason: "Auth group")
        }
        #expect(error == .rateLimited(retryAfter: .milliseconds(7_200_500), global: false))
        #expect(error?.isTransient == true)
        #expect(transport.count == 1)
    }

    @Test func aCloudflareBanStopsEveryRequest() async throws {
        let transport = FakeHTTPTransport(HTTPResponse(status: 429, headers: ["Retry-After": "600"], body: Fixture.json("error code: 1015")))
        let rest = client(transport)
        await #expect(throws: DiscordRESTError.cloudflareBan(retryAfter: .seconds(600))) {
            try await rest.addGuildMemberRole(g, user: u, role: r, reason: "sync")
        }
        await #expect(throws: DiscordRESTError.cloudflareBan(retryAfter: .seconds(600))) { try await rest.getGuildRoles(g) }
        #expect(transport.count == 1)
        #expect(await rest.rateLimiter.standing().cloudflareBanRemaining == .seconds(600))
    }

    @Test func a401StopsEveryLaterRequest() async throws {
        let transport = FakeHTTPTransport(HTTPResponse(status: 401, body: Fixture.json(#"{"message": "401: Unauthorized", "code": 0}"#)))
        let rest = client(transport)
        await #expect(throws: DiscordRESTError.tokenInvalid) { try await rest.getCurrentUser() }
        await #expect(throws: DiscordRESTError.tokenInvalid) { try await rest.getGuild(g) }
        #expect(transport.count == 1)
        #expect(await rest.rateLimiter.standing().tokenInvalid)
    }

    @Test func a401OnABearerTokenIsAnOrdinaryError() async throws {
        let transport = FakeHTTPTransport(HTTPResponse(status: 401, body: Fixture.json(#"{"message": "401: Unauthorized", "code": 0}"#)))
        let rest = client(transport)
        let error = await #expect(throws: DiscordRESTError.self) { try await rest.getCurrentUser(accessToken: Secret("expired")) }
        #expect(error?.status == 401)
        #expect(error != .tokenInvalid)
        #expect(await rest.rateLimiter.standing().tokenInvalid == false)
    }

    @Test func cancellationWhileWaitingToRetryThrowsCancellationError() async throws {
        let clock = ManualClock()
        let transport = FakeHTTPTransport([{ _ in throw HTTPTransportError.timeout }])
        let rest = client(transport, clock)
        let task = Task { try await rest.getGuildRoles(g) }
        #expect(await clock.waitForSleep(within: .seconds(60)))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(transport.count == 1)
    }

    @Test func aSuccessWithAnUnreadableBodyIsAnInvalidResponse() async throws {
        let transport = FakeHTTPTransport(HTTPResponse(status: 200, body: Fixture.json(#"{"roles":"not a list"}"#)))
        let error = await #expect(throws: DiscordRESTError.self) { try await client(transport).getGuildMember(g, user: u) }
        guard case .invalidResponse(let route, _)? = error else { Issue.record("expected invalidResponse"); return }
        #expect(route == "GET /guilds/{guild_id}/members/{user_id}")
    }

    @Test func errorsNeverShowTheToken() async throws {
        let errors: [DiscordRESTError] = [
            .tokenInvalid, .transport(.network("x")), .rateLimited(retryAfter: .seconds(1), global: true),
            .http(DiscordHTTPError(route: "GET /x", status: 500)), .unknownMember, .cloudflareBan(retryAfter: .seconds(1)),
        ]
        for error in errors {
            #expect(!"\(error)".contains(Fixture.token.revealed))
            #expect(!String(reflecting: error).contains(Fixture.token.revealed))
        }
        #expect(!"\(Fixture.configuration().botToken)".contains(Fixture.token.revealed))
    }
}
