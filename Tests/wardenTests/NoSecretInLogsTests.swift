import DiscordModels
import Foundation
import Logging
import Testing
import WardenConfig
import WardenLogging

/// End to end: the code paths that handle a token, logging through Warden's handler, never let it
/// reach the output, in either format.
@Suite("No secret reaches a log line")
struct NoSecretInLogsTests {
    @Test(arguments: LogFormat.allCases)
    func aSentinelTokenNeverAppearsInTheLog(_ format: LogFormat) throws {
        let sink = InMemoryLogSink()
        let redactor = Redactor()
        let log = Logger(label: "warden.test") { label in
            WardenLogHandler(label: label, level: .trace, format: format, redactor: redactor, sink: sink)
        }
        let example = try String(contentsOfFile: examplePath, encoding: .utf8)

        // 1. Configuration loaded with the token from a file, the way the daemon starts.
        let files = ["/run/secrets/bot": sentinelToken + "\n"]
        let readFile: (String) throws -> [UInt8] = { path in
            if let text = files[path] { return Array(text.utf8) }
            throw FileReadError(reason: "no such file")
        }
        let fromFile = try WardenConfiguration.parse(
            Array(example.utf8), environment: ["DISCORD_BOT_TOKEN_FILE": "/run/secrets/bot", "DISCORD_APP_SECRET": sentinelAppSecret,
                                               "WARDEN_ADMIN_TOKEN": sentinelAdminToken], readFile: readFile)
        for secret in fromFile.secrets { redactor.register(secret.revealed) }
        log.info("configuration loaded", metadata: ["summary": "\(fromFile.redactedSummaryText)", "config": "\(fromFile)"])

        // 2. Configuration loaded with the token from the environment.
        let fromEnvironment = try WardenConfiguration.parse(Array(example.utf8), environment: secretsEnvironment, readFile: readFile)
        #expect(fromEnvironment.discord.botToken.revealed == sentinelToken)
        log.debug("bot token", metadata: ["token": "\(fromEnvironment.discord.botToken)", "discord": "\(fromEnvironment.discord)"])

        // 3. Configuration errors next to the token.
        var broken = secretsEnvironment
        broken["DISCORD_FIGHT_LIMIT"] = sentinelToken
        broken["DISCORD_GUILD_ID"] = sentinelToken
        do {
            _ = try WardenConfiguration.parse(Array(example.utf8), environment: broken, readFile: readFile)
            Issue.record("expected an error")
        } catch {
            log.error("bad configuration: \(error)")
        }

        // 4. The Identify payload as it goes on the wire.
        let identify = GatewayCommand(op: .identify, d: Identify(token: sentinelToken, presence: .init(status: .invisible)))
        let wire = String(decoding: try JSONEncoder().encode(identify), as: UTF8.self)
        #expect(wire.contains(sentinelToken), "the test must log a payload that really holds the token")
        log.trace("gateway send \(wire)")
        log.trace("gateway send", metadata: ["payload": "\(wire)"])

        // 5. Request headers, in the message and in metadata.
        log.debug("REST PATCH /guilds/1/members/2 Authorization: Bot \(sentinelToken)")
        log.debug("request", metadata: ["headers": ["Authorization: Bot \(sentinelToken)", "User-Agent: DiscordBot"],
                                        "auth": ["scheme": "Bot", "value": "\(sentinelToken)"]])

        // 6. An unregistered fresh redactor still catches the token by its shape.
        let unregisteredSink = InMemoryLogSink()
        let bare = Logger(label: "bare") { WardenLogHandler(label: $0, format: format, redactor: Redactor(), sink: unregisteredSink) }
        bare.info("token=\(sentinelToken)")

        let output = sink.text + "\n" + unregisteredSink.text
        #expect(sink.lines.count == 7)
        for secret in [sentinelToken, sentinelAppSecret, sentinelAdminToken] {
            #expect(!output.contains(secret), "\(format) output leaks a secret")
        }
        #expect(!output.contains("U2VudGluZWxUb2tlbk5ldmVyUHJpbnRNZQ"), "no part of the token survives")
    }
}
