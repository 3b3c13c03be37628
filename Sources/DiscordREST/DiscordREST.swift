import DiscordModels

/// One request to Discord's REST API, before the client adds the base URL, the User-Agent and the
/// token. Its description shows the route only.
public struct DiscordRequest: Sendable, CustomStringConvertible {
    /// Who the request acts as.
    public enum Authorization: Sendable {
        /// `Authorization: Bot <token>` with the client's bot token.
        case bot
        /// `Authorization: Bearer <access token>` (an OAuth2 user token).
        case bearer(Secret)
        /// No Authorization header (`/oauth2/token` authenticates with form fields).
        case none
    }

    public struct QueryItem: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) { self.name = name; self.value = value }
    }

    public var route: Route
    public var query: [QueryItem]
    public var body: [UInt8]?
    public var contentType: String?
    public var authorization: Authorization
    /// Why, for the guild's audit log (`X-Audit-Log-Reason`); required on every write.
    public var auditLogReason: String?
    /// false when repeating the request after a timeout or a 5xx could do it twice (role creation).
    /// Such requests are retried only after a 429 (which means "not done").
    public var isIdempotent: Bool
    /// true when request and response bodies hold secrets (`/oauth2/token`, Add Guild Member's access
    /// token): they never reach a log line or an error, not even an excerpt.
    public var hasSecretBodies: Bool

    public init(route: Route, query: [QueryItem] = [], body: [UInt8]? = nil, contentType: String? = nil,
                authorization: Authorization = .bot, auditLogReason: String? = nil,
                isIdempotent: Bool = true, hasSecretBodies: Bool = false) {
        self.route = route; self.query = query; self.body = body; self.contentType = contentType
        self.authorization = authorization; self.auditLogReason = auditLogReason
        self.isIdempotent = isIdempotent; self.hasSecretBodies = hasSecretBodies
    }

    public var description: String { route.key }
}

/// A successful (2xx) answer.
public struct DiscordResponse: Sendable, Hashable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status; self.headers = headers; self.body = body
    }
}

/// Discord's REST API as one requirement; every endpoint is an extension method on top
/// (see `DiscordREST+Endpoints.swift`), so a one-method fake stands in for the whole API in tests.
public protocol DiscordREST: Sendable {
    /// Sends the request through the rate limiter, with retries, and returns a 2xx answer.
    /// Throws `DiscordRESTError`, or `CancellationError` when the task is cancelled.
    func send(_ request: DiscordRequest) async throws -> DiscordResponse
}
