import ArgumentParser
import DiscordModels
import WardenConfig

/// `warden status [--config FILE] [--json]`: the running daemon's `GET /api/status`, as a readable
/// summary or, with `--json`, the JSON as the daemon sent it.
struct StatusCommand: WardenSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the running daemon's status: gateway, cache, bot standing, users, alerts."
    )

    @Option(name: .long, help: ArgumentHelp("The configuration file (default: $WARDEN_CONFIG, then ./config.json).", valueName: "file"))
    var config: String?

    @Flag(name: .long, help: "Print the daemon's JSON as it sent it.")
    var json = false

    func execute(in context: CommandContext) async -> Int32 {
        guard let configuration = context.loadConfiguration(explicit: config) else { return ExitStatus.badConfiguration }
        return await context.withAdminAPI(configuration) { api throws(AdminAPIError) in
            let answer = try await api.send(.get, "/api/status")
            if json {
                context.standardOutput(String(decoding: answer.body, as: UTF8.self))
                return ExitStatus.success
            }
            guard let status = answer.json, case .object = status else {
                throw .unexpectedAnswer("GET /api/status did not answer a JSON object")
            }
            for line in StatusSummary.lines(status) { context.standardOutput(line) }
            return ExitStatus.success
        }
    }
}

/// Renders `GET /api/status` (SPEC 3.3) as aligned lines. Fields missing from the answer print as `?`,
/// so a daemon of another version still gives a readable summary.
enum StatusSummary {
    static func lines(_ status: JSONValue) -> [String] {
        var lines: [String] = []
        func row(_ label: String, _ text: String) {
            lines.append(label.padding(toLength: 14, withPad: " ", startingAt: 0) + text)
        }

        let gateway = status["gateway"]
        var gatewayText = text(gateway?["state"])
        var gatewayFacts: [String] = []
        if case .bool(let live)? = gateway?["session"] { gatewayFacts.append(live ? "session live" : "no session") }
        if let latency = JSONText.plain(gateway?["latency_ms"]) { gatewayFacts.append("latency \(latency) ms") }
        if let last = JSONText.plain(gateway?["last_event_at"]) { gatewayFacts.append("last event \(last)") }
        if !gatewayFacts.isEmpty { gatewayText += " (" + gatewayFacts.joined(separator: ", ") + ")" }
        row("gateway", gatewayText)

        let cache = status["cache"]
        var cacheText = "\(text(cache?["members"])) members, \(text(cache?["roles"])) roles"
        if case .bool(let complete)? = cache?["complete"] { cacheText += complete ? ", complete" : ", incomplete (still filling)" }
        row("cache", cacheText)

        let bot = status["bot"]
        var botFacts: [String] = []
        switch bot?["top"] {
        case .bool(true)?: botFacts.append("top role")
        case .bool(false)?: botFacts.append("NOT top: some role ranks above the bot's highest role")
        default: botFacts.append("standing ?")
        }
        if let highest = JSONText.plain(bot?["highest_role"]) { botFacts.append("highest role \(highest)") }
        if case .array(let missing)? = bot?["missing_permissions"] {
            let names = missing.compactMap { JSONText.plain($0) }
            botFacts.append(names.isEmpty ? "permissions complete" : "MISSING " + names.joined(separator: ", "))
        }
        row("bot", botFacts.joined(separator: "; "))

        row("linked users", text(status["linked_users"]))
        row("pending", "\(text(status["pending_writes"])) writes")

        let skipped = array(status["skipped"])
        row("skipped", "\(skipped.count)")
        for entry in skipped {
            lines.append("  " + member(entry) + ": " + text(entry["reason"]))
        }
        let observed = array(status["observed"])
        row("observed", observed.isEmpty ? "0" : "\(observed.count) planned changes (observe-only mode)")
        for entry in observed {
            lines.append("  " + member(entry) + ": " + text(entry["change"]))
        }
        let alerts = array(status["alerts"])
        row("alerts", alerts.isEmpty ? "none open" : "\(alerts.count) open")
        for alert in alerts {
            var line = "  " + text(alert["kind"])
            if let severity = JSONText.plain(alert["severity"]) { line += " [\(severity)]" }
            if let message = JSONText.plain(alert["message"]) { line += ": \(message)" }
            if let raised = JSONText.plain(alert["raised_at"]) { line += " (since \(raised))" }
            lines.append(line)
        }
        return lines
    }

    private static func text(_ value: JSONValue?) -> String { JSONText.plain(value) ?? "?" }

    private static func array(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let items)? = value { return items }
        return []
    }

    private static func member(_ entry: JSONValue) -> String {
        var parts: [String] = []
        if let user = JSONText.plain(entry["user_id"]) { parts.append("user \(user)") }
        if let uid = JSONText.plain(entry["discord_uid"]) { parts.append("discord \(uid)") }
        return parts.isEmpty ? "?" : parts.joined(separator: ", ")
    }
}

/// JSON scalars as plain text for the operator.
enum JSONText {
    /// A string as is, a whole number without a fraction, a boolean as `true`/`false`; nil for
    /// null, missing values, arrays and objects.
    static func plain(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)?: return text
        case .number(let number)?:
            if number == number.rounded(.towardZero), abs(number) < 9.0e15 { return String(Int64(number)) }
            return String(number)
        case .bool(let flag)?: return String(flag)
        default: return nil
        }
    }
}
