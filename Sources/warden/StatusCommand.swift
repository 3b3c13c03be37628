import ArgumentParser
import DiscordModels
import WardenConfig

/// `warden status [--url URL] [--config FILE] [--json]`: the running daemon's `GET /api/status`, as a readable
/// summary or, with `--json`, the JSON as the daemon sent it.
struct StatusCommand: WardenSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the running daemon's status: gateway, cache, bot standing, users, alerts."
    )

    @OptionGroup var daemon: DaemonOptions

    @Flag(name: .long, help: "Print the daemon's JSON as it sent it.")
    var json = false

    func execute(in context: CommandContext) async -> Int32 {
        await context.withAdminAPI(daemon) { api throws(AdminAPIError) in
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
        if let highest = JSONText.plain(bot?["highest_role"]) {
            botFacts.append("highest role " + named(JSONText.plain(bot?["highest_role_name"]), id: highest))
        }
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
            if let message = JSONText.plain(alert["message"]) { line += ": " + TerminalText.safe(message) }
            if let raised = JSONText.plain(alert["raised_at"]) { line += " (since \(raised))" }
            lines.append(line)
        }
        return lines
    }

    private static func text(_ value: JSONValue?) -> String { JSONText.plain(value).map(TerminalText.safe) ?? "?" }

    private static func array(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let items)? = value { return items }
        return []
    }

    /// `user 7, "Bruce Wayne" (80351110224678912)`; without a name, `user 7, discord 80351110224678912`.
    private static func member(_ entry: JSONValue) -> String {
        var parts: [String] = []
        if let user = JSONText.plain(entry["user_id"]) { parts.append("user \(TerminalText.safe(user))") }
        if let uid = JSONText.plain(entry["discord_uid"]) {
            let name = JSONText.plain(entry["name"])
            parts.append(name == nil ? "discord \(TerminalText.safe(uid))" : named(name, id: uid))
        }
        return parts.isEmpty ? "?" : parts.joined(separator: ", ")
    }

    /// `"Fleet Commanders" (1174109840998432768)`, or the id alone when there is no name.
    static func named(_ name: String?, id: String) -> String {
        guard let name else { return TerminalText.safe(id) }
        return "\(TerminalText.quoted(name)) (\(TerminalText.safe(id)))"
    }
}

/// Text from Discord (role and member names, alert messages that quote them) made safe to print on a
/// terminal: control and direction-changing characters are written as `\u{…}`, so a name cannot move
/// the cursor, recolour the terminal or reorder the line.
enum TerminalText {
    /// The name in double quotes, its quotes and backslashes escaped.
    static func quoted(_ text: String) -> String { "\"" + escaped(text, quotes: true) + "\"" }

    /// The text with its control characters escaped.
    static func safe(_ text: String) -> String { escaped(text, quotes: false) }

    private static func escaped(_ text: String, quotes: Bool) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"" where quotes: out += "\\\""
            case "\\" where quotes: out += "\\\\"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
                || (0x200E...0x200F).contains(scalar.value) || (0x202A...0x202E).contains(scalar.value)
                || (0x2066...0x2069).contains(scalar.value):
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
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
