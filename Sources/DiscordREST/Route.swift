/// One REST route: the method, the path template that names the rate-limit route, the concrete path,
/// and the major parameter (the guild id) that splits Discord's buckets.
public struct Route: Sendable, Hashable, CustomStringConvertible {
    public let method: HTTPMethod
    /// The path with its ids as placeholders, e.g. `/guilds/{guild_id}/members/{user_id}`.
    public let template: String
    /// The path sent, relative to the API base URL, e.g. `/guilds/81384788765712384/members/80351110224678912`.
    public let path: String
    /// The top-level resource id that keys Discord's buckets (the guild id), or "" for routes without one.
    public let majorParameter: String
    /// `METHOD template`: the rate limiter's route key and the name used in logs and metrics.
    public let key: String

    public init(_ method: HTTPMethod, template: String, path: String, majorParameter: String = "") {
        self.method = method; self.template = template; self.path = path; self.majorParameter = majorParameter
        self.key = "\(method.rawValue) \(template)"
    }

    public var description: String { key }
}
