import ArgumentParser
import DiscordREST
import WardenConfig

/// The options of the commands that talk to a running daemon (`call`, `link-url`, `users import`,
/// `status`): where its admin API is and which configuration file holds what is not given here.
struct DaemonOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The daemon's admin API, e.g. http://127.0.0.1:8080 or https://warden.example.com (default: $WARDEN_URL, then the configuration's http.listen).",
        valueName: "url"))
    var url: String?

    @Option(name: .long, help: ArgumentHelp(
        "The configuration file, read only for what --url, $WARDEN_URL and $WARDEN_ADMIN_TOKEN(_FILE) do not give (default: $WARDEN_CONFIG, then ./config.json).",
        valueName: "file"))
    var config: String?

    @Flag(name: .long, help: "Allow an http:// URL to a host other than loopback (the admin token then crosses the network in clear text).")
    var allowInsecureURL = false
}

/// What the client-side subcommands share: finding the daemon and its admin token (exit 2 when they
/// are missing or bad) and talking to its admin API (exit 1 when it cannot be reached).
extension CommandContext {
    /// Loads the configuration named by `--config`, `$WARDEN_CONFIG` or `./config.json`; on failure
    /// prints every issue (each naming its key) and returns nil: the caller exits with 2.
    func loadConfiguration(explicit: String?) -> WardenConfiguration? {
        let path = WardenConfiguration.configurationPath(explicit: explicit, environment: environment)
        do {
            let configuration = try WardenConfiguration.load(path: path, environment: environment, readFile: readFile)
            warnAboutSecretFiles(configuration.secretFiles)
            return configuration
        } catch {
            standardError("warden: bad configuration (\(path)):")
            for issue in error.issues { standardError("  \(issue)") }
            return nil
        }
    }

    /// A warning on standard error for each secrets file (`WARDEN_ADMIN_TOKEN_FILE`, `*_file` keys) that
    /// other users may read; never its content.
    func warnAboutSecretFiles(_ files: [SecretFile]) {
        for file in files {
            if let warning = file.exposureWarning() { standardError("warden: warning: \(warning)") }
        }
    }

    /// The daemon's address and admin token (``AdminClientConfiguration``); on failure prints every
    /// issue, each saying what is missing or which setting is wrong, and returns nil: exit 2.
    func daemonClient(_ options: DaemonOptions) -> AdminClientConfiguration? {
        do {
            let daemon = try AdminClientConfiguration.load(
                url: options.url, configPath: options.config, allowInsecureURL: options.allowInsecureURL,
                environment: environment, readFile: readFile)
            warnAboutSecretFiles(daemon.secretFiles)
            return daemon
        } catch {
            for issue in error.issues { standardError("warden: \(issue)") }
            return nil
        }
    }

    /// Finds the daemon (``daemonClient(_:)``; exit 2 when that fails) and runs `body` with a client for
    /// its admin API, then shuts the client's transport down. An `AdminAPIError` thrown by `body` is
    /// printed and gives exit status 1.
    func withAdminAPI(_ options: DaemonOptions, timeout: Duration = .seconds(30),
                      _ body: (AdminAPIClient) async throws(AdminAPIError) -> Int32) async -> Int32 {
        guard let daemon = daemonClient(options) else { return ExitStatus.badConfiguration }
        let transport: CurlHTTPTransport
        do {
            // TLS is verified against the system's CAs for an https:// address.
            transport = try CurlHTTPTransport(configuration: .init(connectTimeout: .seconds(5)))
        } catch {
            standardError("warden: cannot start the HTTP client: \(error)")
            return ExitStatus.runtimeFailure
        }
        defer { transport.shutdown() }
        let client = AdminAPIClient(daemon, transport: transport, timeout: timeout)
        do {
            return try await body(client)
        } catch {
            standardError("warden: \(error)")
            return ExitStatus.runtimeFailure
        }
    }
}
