import DiscordModels
import Foundation

/// An error answer from Discord: the HTTP status and, when the body was Discord's JSON error, its code,
/// message and field errors. Never holds a token or a request body.
public struct DiscordHTTPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The route key, e.g. `PATCH /guilds/{guild_id}/members/{user_id}`.
    public var route: String
    public var status: Int
    /// Discord's JSON error (`{"code": 50013, "message": "Missing Permissions", "errors": …}`), if the body was one.
    public var body: DiscordErrorBody?
    /// The OAuth2 error name (`invalid_grant`, `invalid_client`) of an `/oauth2/token` answer.
    public var oauthError: String?
    /// The start of a body that was not JSON (Cloudflare or proxy pages), for the log. Empty for
    /// routes whose bodies are not logged (`/oauth2/token`).
    public var excerpt: String

    public init(route: String, status: Int, body: DiscordErrorBody? = nil, oauthError: String? = nil, excerpt: String = "") {
        self.route = route; self.status = status; self.body = body; self.oauthError = oauthError; self.excerpt = excerpt
    }

    /// Discord's JSON error code; nil when the body was not Discord's JSON error.
    public var code: DiscordErrorCode? { body?.code }
    /// 5xx: Discord's side failed; worth retrying.
    public var isTransient: Bool { status >= 500 }

    public var description: String {
        var text = "\(route) answered \(status)"
        if let body {
            text += ": \(body.code.rawValue) \(body.message)"
            let fields = body.fieldErrors.prefix(5).map { "\($0.path.isEmpty ? "(request)" : $0.path): \($0.code)" }
            if !fields.isEmpty { text += " [\(fields.joined(separator: ", "))]" }
        } else if let oauthError {
            text += ": \(oauthError)"
        } else if !excerpt.isEmpty {
            text += ": \(excerpt)"
        }
        return text
    }

    /// Reads an error body. `keepExcerpt` is false for routes whose bodies must not be logged.
    init(route: String, status: Int, responseBody: [UInt8], keepExcerpt: Bool) {
        self.route = route
        self.status = status
        self.excerpt = ""
        let data = Data(responseBody)
        if let json = try? JSONDecoder().decode(JSONValue.self, from: data), case .object(let object) = json {
            if object["code"] != nil || object["message"] != nil {
                body = try? JSONDecoder().decode(DiscordErrorBody.self, from: data)
            }
            if case .string(let name)? = object["error"] { oauthError = String(name.prefix(64)) }
        } else if keepExcerpt {
            let text = String(decoding: responseBody.prefix(400), as: UTF8.self)
            excerpt = String(text.unicodeScalars.map { $0.properties.isWhitespace ? " " : Character($0) }.prefix(160))
                .trimmingCharacters(in: .whitespaces)
        }
    }
}

/// Why a Discord REST call failed.
///
/// Transient failures (`isTransient`: network, timeout, 5xx, 429) were already retried by the client
/// as configured; permanent ones (4xx) were not retried at all.
public enum DiscordRESTError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Discord refused or failed: a 4xx (permanent) or a 5xx (transient, after the retries).
    case http(DiscordHTTPError)
    /// 404 with code 10007: the member is not in the guild (they left).
    case unknownMember
    /// Still rate limited (429) after the bounded retries, or the wait was longer than the limiter allows.
    case rateLimited(retryAfter: Duration, global: Bool)
    /// Cloudflare banned this address (a 429 without JSON): no request is sent until it lifts.
    case cloudflareBan(retryAfter: Duration)
    /// Discord answered 401 to the bot token: it is invalid, and no further request is sent.
    case tokenInvalid
    /// No response: timeout or network error, after the retries.
    case transport(HTTPTransportError)
    /// A success status with a body that did not decode as the endpoint's type.
    case invalidResponse(route: String, message: String)
    /// Not sent: too many invalid requests in the last 10 minutes paused every write (SPEC 1.8,
    /// `rate_limit_danger` critical) until the count falls below 1,000.
    case writesPaused(invalidRequests: Int)

    /// Network, timeout, 5xx and 429: the request may succeed later.
    public var isTransient: Bool {
        switch self {
        case .http(let error): error.isTransient
        case .rateLimited, .transport, .cloudflareBan, .writesPaused: true
        case .unknownMember, .tokenInvalid, .invalidResponse: false
        }
    }

    /// Discord's JSON error code, when there is one (10007 for `.unknownMember`).
    public var code: DiscordErrorCode? {
        switch self {
        case .http(let error): error.code
        case .unknownMember: .unknownMember
        default: nil
        }
    }

    /// The HTTP status, when a response said it.
    public var status: Int? {
        switch self {
        case .http(let error): error.status
        case .unknownMember: 404
        case .rateLimited, .cloudflareBan: 429
        case .tokenInvalid: 401
        case .transport, .invalidResponse, .writesPaused: nil
        }
    }

    /// `error.has(.missingPermissions)`: whether Discord answered with that JSON error code.
    public func has(_ code: DiscordErrorCode) -> Bool { self.code == code }

    public var description: String {
        switch self {
        case .http(let error): error.description
        case .unknownMember: "unknown member (404, 10007)"
        case .rateLimited(let retryAfter, let global):
            "rate limited\(global ? " globally" : ""); retry after \(retryAfter)"
        case .cloudflareBan(let retryAfter): "Cloudflare banned this address for \(retryAfter) (429 without JSON)"
        case .tokenInvalid: "the bot token is invalid (401); requests stopped"
        case .transport(let error): error.description
        case .invalidResponse(let route, let message): "\(route): unreadable response: \(message)"
        case .writesPaused(let count): "Discord writes paused: \(count) invalid requests (401/403/429) in the last 10 minutes; they resume below \(InvalidRequestWindow.resumeBelow)"
        }
    }
}
