import DiscordREST
import WardenConfig

/// What the client-side subcommands share: loading the configuration (exit 2 when it is bad) and
/// talking to the running daemon's admin API (exit 1 when it cannot be reached).
extension CommandContext {
    /// Loads the configuration named by `--config`, `$WARDEN_CONFIG` or `./config.json`; on failure
    /// prints every issue (each naming its key) and returns nil: the caller exits with 2.
    func loadConfiguration(explicit: String?) -> WardenConfiguration? {
        let path = WardenConfiguration.configurationPath(explicit: explicit, environment: environment)
        do {
            let configuration = try WardenConfiguration.load(path: path, environment: environment, readFile: readFile)
            warnAboutSecretFiles(of: configuration)
            return configuration
        } catch {
            standardError("warden: bad configuration (\(path)):")
            for issue in error.issues { standardError("  \(issue)") }
            return nil
        }
    }

    /// A warning on standard error for each secrets file (`WARDEN_ADMIN_TOKEN_FILE`, `*_file` keys) that
    /// other users may read; never its content.
    func warnAboutSecretFiles(of configuration: WardenConfiguration) {
        for file in configuration.secretFiles {
            if let warning = file.exposureWarning() { standardError("warden: warning: \(warning)") }
        }
    }

    /// Runs `body` with a client for the daemon at `http.listen`, then shuts its transport down.
    /// An `AdminAPIError` thrown by `body` is printed and gives exit status 1.
    func withAdminAPI(_ configuration: WardenConfiguration, timeout: Duration = .seconds(30),
                      _ body: (AdminAPIClient) async throws(AdminAPIError) -> Int32) async -> Int32 {
        let transport: CurlHTTPTransport
        do {
            transport = try CurlHTTPTransport(configuration: .init(connectTimeout: .seconds(5)))
        } catch {
            standardError("warden: cannot start the HTTP client: \(error)")
            return ExitStatus.runtimeFailure
        }
        defer { transport.shutdown() }
        let client = AdminAPIClient(listen: configuration.http.listen, adminToken: configuration.http.adminToken,
                                    transport: transport, timeout: timeout)
        do {
            return try await body(client)
        } catch {
            standardError("warden: \(error)")
            return ExitStatus.runtimeFailure
        }
    }
}
