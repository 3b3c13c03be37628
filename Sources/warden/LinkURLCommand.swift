import ArgumentParser
import WardenConfig

/// `warden link-url USER_ID [--ttl SECONDS] [--url URL] [--config FILE]`: asks the running daemon for an
/// Auth user's activation link (`POST /api/users/{id}/discord/activation-link`, with `{"ttl": SECONDS}`
/// when given) and prints it, then its expiry.
struct LinkURLCommand: WardenSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "link-url",
        abstract: "Print an Auth user's Discord activation link (asks the running daemon).",
        discussion: """
            The first line is the URL alone; the second says when it expires. The link is valid for \
            http.activation_link_ttl seconds (15 minutes unless configured) or --ttl, and dead once it linked an account.
            """
    )

    @Argument(help: ArgumentHelp("The Auth user's id.", valueName: "user-id"))
    var userID: Int64

    @Option(name: .long, help: ArgumentHelp("How long the link stays valid, at most 604800 (7 days), for a link sent by hand (default: http.activation_link_ttl).",
                                            valueName: "seconds"))
    var ttl: Int?

    @OptionGroup var daemon: DaemonOptions

    func validate() throws {
        guard userID > 0 else { throw ValidationError("USER_ID must be a positive Auth user id") }
        if let ttl, !(1...WardenConfiguration.HTTP.maximumActivationLinkTTL).contains(ttl) {
            throw ValidationError("--ttl must be from 1 to \(WardenConfiguration.HTTP.maximumActivationLinkTTL) seconds (7 days)")
        }
    }

    func execute(in context: CommandContext) async -> Int32 {
        await context.withAdminAPI(daemon) { api throws(AdminAPIError) in
            let answer: AdminAPIClient.Answer
            do throws(AdminAPIError) {
                answer = try await api.send(.post, "/api/users/\(userID)/discord/activation-link",
                                            body: ttl.map { Array("{\"ttl\": \($0)}".utf8) })
            } catch .refused(status: 404, let message) {
                throw .refused(status: 404, message: "no Auth user \(userID) is known to Warden" + (message.map { " (\($0))" } ?? ""))
            }
            guard let url = answer.json?["url"]?.stringValue, !url.isEmpty else {
                throw .unexpectedAnswer("no \"url\" in the activation-link answer")
            }
            context.standardOutput(url)
            if let expiry = answer.json?["expires_at"].flatMap(JSONText.plain) {
                context.standardOutput("expires at \(expiry)")
            }
            return ExitStatus.success
        }
    }
}
