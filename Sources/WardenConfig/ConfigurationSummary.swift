extension WardenConfiguration {
    /// A short description of the configuration for `warden check-config` and the start-up log,
    /// one (key, value) per line. Secrets are never shown; the webhook shows only its origin
    /// (a Discord webhook URL holds a token in its path).
    public var redactedSummary: [(key: String, value: String)] {
        var lines: [(key: String, value: String)] = [
            ("discord.guild_id", discord.guildID.description),
            ("discord.app_id", discord.appID.description),
            ("discord.api_base_url", discord.apiBaseURL.absoluteString),
            ("discord.gateway_url", discord.gatewayURL?.absoluteString ?? "(asked from GET /gateway/bot)"),
            ("discord.enforce", discord.enforce ? "true" : "false (observe-only)"),
            ("discord.sync_names", String(discord.syncNames)),
        ]
        if discord.nameFormats.isEmpty {
            lines.append(("discord.name_formats", "(none: every state uses {character_name})"))
        } else {
            for state in discord.nameFormats.keys.sorted() {
                lines.append(("discord.name_formats.\(state)", discord.nameFormats[state]?.source ?? ""))
            }
        }
        lines += [
            ("http.listen", http.listen.description),
            ("http.public_url", http.publicURL.absoluteString),
            store.url == nil ? ("store.path", store.path) : ("store.url", store.description),
            ("alerts.webhook_url", alerts.webhookURL.map { "\($0.origin)/… (path hidden)" } ?? "(none)"),
            ("log", "\(log.level.rawValue), \(log.format.rawValue)"),
        ]
        return lines
    }

    /// ``redactedSummary`` as aligned text lines.
    public var redactedSummaryText: String {
        let width = redactedSummary.map(\.key.count).max() ?? 0
        return redactedSummary.map { key, value in
            key + String(repeating: " ", count: width - key.count) + "  " + value
        }.joined(separator: "\n")
    }
}
