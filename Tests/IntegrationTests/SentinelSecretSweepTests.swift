import AuthModels
import AuthStore
import DiscordFake
import DiscordModels
import DiscordREST
import Foundation
import Testing

/// One sweep over every output channel of `warden run` (SPEC 4: no token, secret or access token in any
/// log line, metric, error message or status output): a distinct sentinel in every secret slot of the
/// configuration (SPEC 3.2: bot token, through its `_file` form; app secret, which also keys the signed
/// links and states; admin token; the alert webhook URL, which docs/configuration.md treats as a secret),
/// the daemon driven through startup, a correction, an alert raised and resolved, the OAuth linking flow
/// and its refusal pages, admin API answers good and bad, status, health and metrics; then none of the
/// sentinels (nor the OAuth code and access token) appears in the log (trace level), any answer's body or
/// headers, the metrics text, or the webhook bodies.
@Suite(.serialized, .timeLimit(.minutes(5))) struct SentinelSecretSweepTests {
    struct Sentinels {
        let tag = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        var botToken: String { "sentinel-bot-token-\(tag)" }
        var appSecret: String { "sentinel-app-secret-\(tag)" }
        var adminToken: String { "sentinel-admin-token-\(tag)" }
        var webhookPath: String { "/hooks/sentinel-webhook-\(tag)" }
    }

    /// A free loopback port (bound, read, released), so the callback URL can name it before Warden starts.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// What one channel showed: a label for the failure message and the text.
    struct Capture {
        var channel: String
        var text: String
    }

    @Test func noSentinelSecretReachesLogsAnswersMetricsPagesOrTheWebhook() async throws {
        let sentinels = Sentinels()
        var fakeConfiguration = FakeConfiguration()
        fakeConfiguration.identifyConcurrencyWindow = nil
        var seed = FakeSeed()
        seed.generatedMembers = 20
        seed.application.botToken = Secret(sentinels.botToken)
        seed.application.secret = Secret(sentinels.appSecret)
        let discord = FakeDiscord(configuration: fakeConfiguration, seed: seed)
        try await discord.start()
        let webhook = try await WebhookReceiver.start()
        let directory = try WardenRunProcessTests.directory()
        defer { try? FileManager.default.removeItem(at: directory) }

        // Auth: alice is linked and lacks her roles; bob will link through OAuth.
        let alice = discord.addMember(username: "alice").user!.id
        let bob = discord.registerUser(username: "bob")
        discord.setConsentUser(bob.id)
        let storePath = directory.appendingPathComponent("warden.sqlite3").path
        let store = try AuthStore(path: storePath)
        _ = try await store.upsert(AuthUserImport(user: LiveWarden.user(1, groups: ["Corp_WYE"]), discordUID: alice))
        _ = try await store.upsert(AuthUserImport(user: LiveWarden.user(2, groups: ["Fleet Commanders"])))
        try store.close()

        let port = try Self.freePort()
        let base = "http://127.0.0.1:\(port)"
        let tokenFile = directory.appendingPathComponent("bot-token")
        try Data((sentinels.botToken + "\n").utf8).write(to: tokenFile)
        let config = directory.appendingPathComponent("config.json")
        try Data("""
            {"discord": {"app_id": "\(discord.application.id)", "app_secret": "\(sentinels.appSecret)",
              "bot_token_file": "\(tokenFile.path)", "guild_id": "\(discord.guildID)",
              "callback_url": "\(base)/discord/callback/", "api_base_url": "\(discord.apiBaseURL)",
              "gateway_url": "\(discord.gatewayURL)", "oauth_authorize_url": "\(discord.authorizeURL)"},
             "store": {"path": "\(storePath)"},
             "http": {"listen": "127.0.0.1:\(port)", "public_url": "\(base)", "admin_token": "\(sentinels.adminToken)"},
             "alerts": {"webhook_url": "\(webhook.url(sentinels.webhookPath))"},
             "log": {"level": "trace", "format": "json"}}
            """.utf8).write(to: config)
        let logFile = directory.appendingPathComponent("stderr.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let process = Process()
        process.executableURL = try WardenRunProcessTests.binary()
        process.arguments = ["run", "--config", config.path]
        process.environment = ["PATH": "/usr/bin:/bin"]
        process.standardError = try FileHandle(forWritingTo: logFile)
        process.standardOutput = try FileHandle(forWritingTo: logFile)
        try process.run()

        var captures: [Capture] = []
        do {
            let client = try CurlHTTPTransport()
            @Sendable func send(_ method: HTTPMethod, _ url: String, token: String? = sentinels.adminToken,
                                body: String? = nil, cookie: String? = nil) async throws -> HTTPResponse {
                var headers: HTTPHeaders = [:]
                if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
                if let cookie { headers.add(name: "Cookie", value: cookie) }
                if body != nil { headers.add(name: "Content-Type", value: "application/json") }
                return try await client.send(HTTPRequest(method: method, url: url.hasPrefix("http") ? url : base + url,
                                                         headers: headers, body: body.map { Array($0.utf8) }, timeout: .seconds(60)))
            }
            func record(_ label: String, _ answer: HTTPResponse) {
                let headers = answer.headers.fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
                captures.append(Capture(channel: "\(label) → \(answer.status)", text: headers + "\n\n" + String(decoding: answer.body, as: UTF8.self)))
            }

            // Startup and the first correction (the audit gives alice her roles), then a manual edit corrected.
            let member = try #require(discord.role(named: "Member")).id
            let corp = try #require(discord.role(named: "Corp_WYE")).id
            try await LiveWarden.eventually("alice's roles", on: discord, timeout: .seconds(120)) {
                Set(discord.member(alice)?.roles ?? []) == [member, corp]
            }
            try discord.removeRole(corp, from: alice)
            try await LiveWarden.eventually("the correction", on: discord) { Set(discord.member(alice)?.roles ?? []) == [member, corp] }
            try await LiveWarden.eventually("the HTTP server", on: discord) { (try? await send(.get, "/healthz", token: nil))?.status == 200 }

            // An alert raised and resolved (log, webhook, API).
            let botRole = try #require(discord.botRole)
            try discord.setRolePermissions(botRole.id, Permissions.wardenRequired.subtracting(.kickMembers))
            try await webhook.waitForNotice("missing_permissions", resolved: false)
            record("GET /api/alerts (open)", try await send(.get, "/api/alerts"))
            record("GET /api/status (alert open)", try await send(.get, "/api/status"))
            try discord.setRolePermissions(botRole.id, .wardenRequired)
            try await webhook.waitForNotice("missing_permissions", resolved: true)

            // OAuth linking: the activation link, the redirect to Discord, the callback's pages.
            let link = try await send(.post, "/api/users/2/discord/activation-link")
            record("POST activation-link", link)
            let url = try #require((try JSONSerialization.jsonObject(with: Data(link.body)) as? [String: Any])?["url"] as? String)
            let activate = try await send(.get, url, token: nil)
            record("GET activation link", activate)
            #expect(activate.status == 302)
            let authorize = try #require(activate.headers["Location"])
            let callback = try #require(discord.consent(toAuthorizeURL: authorize))
            let code = try #require(URLComponents(string: callback)?.queryItems?.first { $0.name == "code" }?.value)
            let cookie = activate.headers["Set-Cookie"].map { String($0.prefix { $0 != ";" }) }
            let linked = try await send(.get, callback, token: nil, cookie: cookie)
            record("GET callback", linked)
            #expect(linked.status == 200, "\(String(decoding: linked.body, as: UTF8.self))")
            let accessToken = try #require(discord.requests.first { $0.path.hasSuffix("/users/@me") && $0.header("Authorization")?.hasPrefix("Bearer ") == true }?
                .header("Authorization")?.dropFirst("Bearer ".count)).description
            record("GET callback again (reused state)", try await send(.get, callback, token: nil, cookie: cookie))
            record("GET callback without the cookie", try await send(.get, callback, token: nil))
            record("GET callback without code", try await send(.get, "/discord/callback/", token: nil))
            record("GET callback, forged state", try await send(.get, "/discord/callback/?code=abc&state=forged.state", token: nil))
            record("GET callback, Discord error", try await send(.get, "/discord/callback/?error=access_denied", token: nil))
            record("GET activate, forged token", try await send(.get, "/discord/activate?token=forged.token", token: nil))
            record("GET activate, no token", try await send(.get, "/discord/activate", token: nil))

            // The admin API, good and bad.
            record("GET /api/status", try await send(.get, "/api/status"))
            record("GET /api/alerts", try await send(.get, "/api/alerts"))
            record("GET /api/users/1", try await send(.get, "/api/users/1"))
            record("GET /api/users/2", try await send(.get, "/api/users/2"))
            record("GET /api/users/999", try await send(.get, "/api/users/999"))
            record("PUT /api/users/1 bad JSON", try await send(.put, "/api/users/1", body: "{\"id\": 1, "))
            record("PUT /api/users/1 wrong type", try await send(.put, "/api/users/1", body: "{\"username\": 5}"))
            record("PUT /api/users unknown field", try await send(.put, "/api/users", body: "[{\"id\": 3, \"username\": \"x\", \"state\": \"Member\", \"bogus\": 1}]"))
            record("GET /api/status wrong token", try await send(.get, "/api/status", token: "not-the-admin-token-000"))
            record("GET /api/status no token", try await send(.get, "/api/status", token: nil))
            record("GET /api/status token prefix", try await send(.get, "/api/status", token: String(sentinels.adminToken.dropLast())))
            record("GET /api/reserved-group-names", try await send(.get, "/api/reserved-group-names"))
            record("GET /api/notifications", try await send(.get, "/api/notifications"))
            record("POST unknown task", try await send(.post, "/api/tasks/discord.nope", body: "{}"))
            let task = try await send(.post, "/api/tasks/discord.update_all", body: "{}")
            record("POST /api/tasks/discord.update_all", task)
            if let id = (try? JSONSerialization.jsonObject(with: Data(task.body)) as? [String: Any])?["id"] {
                record("GET /api/tasks/id", try await send(.get, "/api/tasks/\(id)"))
            }
            record("GET /healthz", try await send(.get, "/healthz", token: nil))
            record("GET /readyz", try await send(.get, "/readyz", token: nil))
            let metrics = try await send(.get, "/metrics", token: nil)
            record("GET /metrics", metrics)
            _ = try PrometheusText(String(decoding: metrics.body, as: UTF8.self))

            for notice in webhook.received {
                let headers = notice.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
                captures.append(Capture(channel: "webhook \(notice.kind ?? "?")", text: headers + "\n\n" + String(decoding: notice.body, as: UTF8.self)))
            }
            #expect(webhook.received.count >= 2)
            #expect(webhook.received.allSatisfy { $0.path == sentinels.webhookPath }, "the webhook was posted to its own URL")

            process.terminate()
            let status = await process.exitStatus()
            let log = try String(contentsOf: logFile, encoding: .utf8)
            captures.append(Capture(channel: "log", text: log))
            #expect(status == 0, "\(log.suffix(2000))")
            // The channels really carried the events that could leak.
            #expect(log.contains("member corrected"))
            #expect(log.contains("alert raised: missing_permissions"))
            #expect(log.contains("\"level\":\"trace\"") || log.contains("\"level\":\"debug\""), "trace and debug lines were written")

            let forbidden = [
                ("bot token", sentinels.botToken), ("app secret", sentinels.appSecret), ("admin token", sentinels.adminToken),
                ("webhook URL", sentinels.webhookPath), ("sentinel fragment", String(sentinels.tag)),
                ("client credentials (Basic)", Data("\(discord.application.id):\(sentinels.appSecret)".utf8).base64EncodedString()),
                ("OAuth code", code), ("OAuth access token", accessToken),
            ]
            for capture in captures {
                for (name, secret) in forbidden {
                    #expect(!capture.text.contains(secret), "the \(name) appeared in \(capture.channel)")
                }
            }
        } catch {
            if process.isRunning { process.terminate(); _ = await process.exitStatus() }
            await webhook.stop()
            await discord.stop()
            throw error
        }
        await webhook.stop()
        await discord.stop()
    }
}
