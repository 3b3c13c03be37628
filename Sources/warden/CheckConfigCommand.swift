import ArgumentParser
import WardenConfig

/// `warden check-config [--config FILE]`: load and validate the configuration without touching
/// the network, print a short summary with no secrets, and say "configuration OK" (exit 0) or
/// every problem found, each naming its key (exit 2).
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration (offline) and print a short summary without secrets."
    )

    @Option(name: .long, help: ArgumentHelp("The configuration file (default: $WARDEN_CONFIG, then ./config.json).", valueName: "file"))
    var config: String?

    func execute(in context: CommandContext) -> Int32 {
        let path = WardenConfiguration.configurationPath(explicit: config, environment: context.environment)
        do {
            let configuration = try WardenConfiguration.load(path: path, environment: context.environment, readFile: context.readFile)
            context.standardOutput("configuration file  \(path)")
            context.standardOutput(configuration.redactedSummaryText)
            context.standardOutput("configuration OK")
            return ExitStatus.success
        } catch {
            context.standardError("warden: bad configuration (\(path)):")
            for issue in error.issues { context.standardError("  \(issue)") }
            return ExitStatus.badConfiguration
        }
    }

    func run() throws {
        let status = execute(in: .process)
        if status != ExitStatus.success { throw ExitCode(status) }
    }
}
