import ArgumentParser
import AuthStore
import DiscordGateway
import DiscordREST
import Logging
import ServiceLifecycle
import WardenConfig
import WardenLogging
import WardenService

/// `warden run [--config FILE]`: the daemon. Runs until SIGTERM or SIGINT (exit 0), or until Discord
/// refuses in a way that needs the operator (gateway 4004, 4010-4014, REST 401): the alert is raised
/// first, then it exits with 3 and does not reconnect.
struct RunCommand: WardenSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon: keep the guild's roles and nicknames in line with Auth."
    )

    @Option(name: .long, help: ArgumentHelp("The configuration file (default: $WARDEN_CONFIG, then ./config.json).", valueName: "file"))
    var config: String?

    func execute(in context: CommandContext) async -> Int32 {
        let path = WardenConfiguration.configurationPath(explicit: config, environment: context.environment)
        let configuration: WardenConfiguration
        do {
            configuration = try WardenConfiguration.load(path: path, environment: context.environment, readFile: context.readFile)
        } catch {
            context.standardError("warden: bad configuration (\(path)):")
            for issue in error.issues { context.standardError("  \(issue)") }
            return ExitStatus.badConfiguration
        }

        let redactor = Redactor(secrets: configuration.secrets.map(\.revealed))
        LoggingBootstrap.bootstrap(level: configuration.log.level.swiftLogLevel,
                                   format: configuration.log.format == .json ? .json : .text, redactor: redactor)
        let logger = Logger(label: "warden")
        for file in configuration.secretFiles {
            if let warning = file.exposureWarning() { logger.warning("\(warning)") }
        }

        // One `warden run` per SQLite store: a second one would fight the first (SPEC 3.2). Held until exit.
        // A PostgreSQL store is shared by instances on purpose (SPEC 7): no lock file.
        var storeLock: StoreLock?
        if configuration.store.url == nil {
            do {
                storeLock = try StoreLock.acquire(storePath: configuration.store.path)
            } catch {
                logger.critical("\(error); exiting with 2")
                return ExitStatus.badConfiguration
            }
            if let mode = SecretFile.mode(ofFileAt: configuration.store.path), mode & 0o077 != 0 {
                logger.warning("store.path: the store \"\(configuration.store.path)\" is open to other users (mode \(String(mode, radix: 8))); it holds Auth usernames and Discord ids: chmod 600 it")
            }
        }
        defer { withExtendedLifetime(storeLock) {} }

        let store: AuthStore
        do {
            store = try await AuthStore.open(configuration.store, logger: Logger(label: "warden.store"))
        } catch let error as AuthStoreError {
            if case .schemaTooNew = error {
                logger.critical("store \(configuration.store.description): \(error); exiting with 2")
                return ExitStatus.badConfiguration
            }
            logger.critical("cannot open the store \(configuration.store.description): \(error); exiting with 1")
            return ExitStatus.runtimeFailure
        } catch {
            logger.critical("cannot open the store \(configuration.store.description): \(error); exiting with 1")
            return ExitStatus.runtimeFailure
        }
        logger.info("store opened", metadata: ["store": "\(configuration.store.description)", "kind": "\(store.kind.rawValue)"])

        let transports: DaemonTransports
        do {
            transports = DaemonTransports(
                webSocket: LWSWebSocketTransport(caFile: configuration.discord.caFile),
                http: try CurlHTTPTransport(configuration: .init(caFile: configuration.discord.caFile)))
        } catch {
            logger.critical("cannot start the network transports", metadata: ["error": "\(error)"])
            try? store.close()
            return ExitStatus.runtimeFailure
        }

        let daemon = WardenDaemon(configuration: configuration, transports: transports, store: store)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [
                .init(service: daemon, successTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: DaemonHTTPService(daemon: daemon), successTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        var failure: (any Error)?
        do {
            try await group.run()
        } catch {
            failure = error
        }
        switch daemon.outcome {
        case .fatal(let kind, let message):
            logger.critical("fatal: \(kind.rawValue): \(message); exiting with 3 (needs the operator)")
            return ExitStatus.fatalDiscordRefusal
        case .stopped, nil:
            if let failure {
                logger.critical("warden stopped on an error", metadata: ["error": "\(failure)"])
                return ExitStatus.runtimeFailure
            }
            return ExitStatus.success
        }
    }
}

extension WardenConfiguration.Log.Level {
    var swiftLogLevel: Logger.Level {
        switch self {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        case .critical: .critical
        }
    }
}
