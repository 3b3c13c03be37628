import ArgumentParser
import DiscordModels
import WardenConfig

/// `warden add-bot-url [--config FILE]`: prints the URL that adds the bot to the configured guild
/// (SPEC 1.9, "Link Discord Server") with the least privilege Warden needs, never ADMINISTRATOR. Offline.
struct AddBotURLCommand: WardenSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "add-bot-url",
        abstract: "Print the URL that adds the bot to the guild with the permissions Warden needs (offline).",
        discussion: """
            Permissions asked: MANAGE_ROLES, MANAGE_NICKNAMES, KICK_MEMBERS, CREATE_INSTANT_INVITE \
            (never ADMINISTRATOR). Open the URL as a user who can manage the guild.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The configuration file (default: $WARDEN_CONFIG, then ./config.json).", valueName: "file"))
    var config: String?

    func execute(in context: CommandContext) -> Int32 {
        guard let configuration = context.loadConfiguration(explicit: config) else { return ExitStatus.badConfiguration }
        context.standardOutput(Self.installURL(for: configuration.discord))
        return ExitStatus.success
    }

    /// `{oauth_authorize_url}?client_id=…&scope=bot&permissions=…&guild_id=…&disable_guild_select=true`.
    static func installURL(for discord: WardenConfiguration.Discord) -> String {
        let permissions = Permissions.wardenRequired.subtracting(.administrator)
        let query = [
            ("client_id", discord.appID.description),
            ("scope", "bot"),
            ("permissions", String(permissions.rawValue)),
            ("guild_id", discord.guildID.description),
            ("disable_guild_select", "true"),
        ].map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let base = discord.oauthAuthorizeURL.absoluteString
        let separator = discord.oauthAuthorizeURL.query == nil ? "?" : (base.hasSuffix("?") || base.hasSuffix("&") ? "" : "&")
        return base + separator + query
    }
}
