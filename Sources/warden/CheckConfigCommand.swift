import ArgumentParser
import DiscordREST
import WardenConfig
import WardenService

/// `warden check-config [--config FILE]`: load and validate the configuration without touching
/// the network, print a short summary with no secrets, and say "configuration OK" (exit 0) or
/// every problem found, each naming its key (exit 2).
struct CheckConfigCommand: WardenSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration (offline) and print a short summary without secrets."
    )

    @Option(name: .long, help: ArgumentHelp("The configuration file (default: $WARDEN_CONFIG, then ./config.json).", valueName: "file"))
    var config: String?

    @Flag(name: .long, help: "Also ask Discord: token, guild, Server Members Intent, permissions, role hierarchy (reads only).")
    var online = false

    func execute(in context: CommandContext) async -> Int32 {
        let path = WardenConfiguration.configurationPath(explicit: config, environment: context.environment)
        do {
            let configuration = try WardenConfiguration.load(path: path, environment: context.environment, readFile: context.readFile)
            context.standardOutput("configuration file  \(path)")
            context.standardOutput(configuration.redactedSummaryText)
            context.warnAboutSecretFiles(configuration.secretFiles)
            context.standardOutput("configuration OK")
            guard online else { return ExitStatus.success }
            return await checkOnline(configuration, in: context)
        } catch {
            context.standardError("warden: bad configuration (\(path)):")
            for issue in error.issues { context.standardError("  \(issue)") }
            return ExitStatus.badConfiguration
        }
    }

    /// Exit 0 when everything works, 1 when Discord could not be asked or something needs attention,
    /// 3 when Discord refused in a way that needs the operator (invalid token, intent not enabled, bot not
    /// in the guild).
    private func checkOnline(_ configuration: WardenConfiguration, in context: CommandContext) async -> Int32 {
        let transport: CurlHTTPTransport
        do {
            transport = try CurlHTTPTransport(configuration: .init(caFile: configuration.discord.caFile))
        } catch {
            context.standardError("warden: cannot start HTTP: \(error)")
            return ExitStatus.runtimeFailure
        }
        defer { transport.shutdown() }
        let rest = DiscordRESTClient(
            configuration: DiscordRESTConfiguration(botToken: configuration.discord.botToken,
                                                    apiBaseURL: configuration.discord.apiBaseURL.absoluteString,
                                                    version: WardenVersion.current, maxRetries: 1, retryPause: .seconds(1)),
            transport: transport)
        let report = await OnlineCheck(rest: rest, guildID: configuration.discord.guildID,
                                       syncNames: configuration.discord.syncNames).run()
        for finding in report.findings {
            context.standardOutput("\(finding.ok ? "ok  " : "FAIL") \(finding.check): \(finding.message)")
        }
        switch report.verdict {
        case .ok:
            context.standardOutput("Discord OK")
            return ExitStatus.success
        case .warning, .unreachable:
            return ExitStatus.runtimeFailure
        case .fatal:
            return ExitStatus.fatalDiscordRefusal
        }
    }
}
