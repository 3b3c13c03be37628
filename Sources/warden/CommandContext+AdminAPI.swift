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
            return try WardenConfiguration.load(path: path, environment: environment, readFile: readFile)
        } catch {
            standardError("warden: bad configuration (\(path)):")
            for issue in error.issues { standardError("  \(issue)") }
            return nil
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
