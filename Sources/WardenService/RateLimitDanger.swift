import DiscordModels
import DiscordREST

/// The `rate_limit_danger` alert (SPEC 1.6, 1.8) from the REST limiter's standing: a Cloudflare ban, or
/// invalid requests above 500 in 10 minutes (warning), or at the 2,000 that paused every write
/// (critical, until the count is below 1,000; the alert resolves below 500).
enum RateLimitDanger {
    static func condition(_ standing: RateLimiterStanding) -> AlertCondition? {
        let count = standing.invalidRequests
        let details: [String: JSONValue] = ["invalid_requests": .number(Double(count))]
        if let ban = standing.cloudflareBanRemaining {
            return AlertCondition(message: "Cloudflare banned this address (429 without JSON); REST requests stopped for \(ban)",
                                  details: details, severity: .critical)
        }
        switch standing.invalidRequestLevel {
        case .calm:
            return nil
        case .warning:
            return AlertCondition(
                message: "\(count) invalid requests (401/403/429) in the last 10 minutes; Discord bans at 10,000, Warden pauses writes at \(InvalidRequestWindow.pauseAt)",
                details: details)
        case .writesPaused:
            return AlertCondition(
                message: "\(count) invalid requests (401/403/429) in the last 10 minutes: every Discord write is paused until fewer than \(InvalidRequestWindow.resumeBelow) (Discord bans at 10,000)",
                details: details.merging(["writes_paused": .bool(true)]) { $1 }, severity: .critical)
        }
    }
}
