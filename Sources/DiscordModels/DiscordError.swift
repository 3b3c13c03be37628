/// Discord's JSON error codes that Warden acts on.
public struct DiscordErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let general = DiscordErrorCode(rawValue: 0)
    public static let unknownGuild = DiscordErrorCode(rawValue: 10004)
    public static let unknownMember = DiscordErrorCode(rawValue: 10007)
    public static let unknownRole = DiscordErrorCode(rawValue: 10011)
    public static let unknownUser = DiscordErrorCode(rawValue: 10013)
    public static let maximumGuilds = DiscordErrorCode(rawValue: 30001)
    public static let maximumRoles = DiscordErrorCode(rawValue: 30005)
    public static let userBanned = DiscordErrorCode(rawValue: 40007)
    public static let cloudflareBlocked = DiscordErrorCode(rawValue: 40333)
    public static let missingAccess = DiscordErrorCode(rawValue: 50001)
    public static let missingPermissions = DiscordErrorCode(rawValue: 50013)
    public static let invalidOAuth2AccessToken = DiscordErrorCode(rawValue: 50025)
    public static let invalidFormBody = DiscordErrorCode(rawValue: 50035)
    public static let invalidJSON = DiscordErrorCode(rawValue: 50109)
    public static let twoFactorRequired = DiscordErrorCode(rawValue: 60003)

    public var description: String { String(rawValue) }
}

/// One leaf of a 50035 "Invalid Form Body" error tree: where, which code, what it says.
public struct DiscordFieldError: Hashable, Sendable {
    public var path: String
    public var code: String
    public var message: String
    public init(path: String, code: String, message: String) { self.path = path; self.code = code; self.message = message }
}

/// Discord's JSON error body: `{"code": 50013, "message": "Missing Permissions", "errors": {…}}`.
public struct DiscordErrorBody: Codable, Hashable, Sendable {
    public var code: DiscordErrorCode
    public var message: String
    public var errors: JSONValue?

    public init(code: DiscordErrorCode, message: String, errors: JSONValue? = nil) {
        self.code = code; self.message = message; self.errors = errors
    }

    enum CodingKeys: String, CodingKey { case code, message, errors }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        code = DiscordErrorCode(rawValue: try c.decodeIfPresent(Int.self, forKey: .code) ?? 0)
        message = try c.decodeIfPresent(String.self, forKey: .message) ?? ""
        errors = try c.decodeIfPresent(JSONValue.self, forKey: .errors)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(code.rawValue, forKey: .code)
        try c.encode(message, forKey: .message)
        try c.encodeIfPresent(errors, forKey: .errors)
    }

    /// The leaves of the `errors` tree, with dotted paths (`roles.0`, `nick`; request-level errors have path "").
    public var fieldErrors: [DiscordFieldError] {
        var out: [DiscordFieldError] = []
        func walk(_ value: JSONValue, _ path: [String]) {
            guard case .object(let object) = value else { return }
            for key in object.keys.sorted() {
                let child = object[key]!
                if key == "_errors", case .array(let items) = child {
                    for item in items {
                        out.append(DiscordFieldError(path: path.joined(separator: "."),
                                                     code: item["code"]?.stringValue ?? "",
                                                     message: item["message"]?.stringValue ?? ""))
                    }
                } else {
                    walk(child, path + [key])
                }
            }
        }
        if let errors { walk(errors, []) }
        return out
    }
}
