import DiscordModels
import Foundation

/// An HTTP answer of the fake, before it goes on the wire.
struct FakeHTTPResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    /// Set on 429s: the scope (`user`, `global`, `shared`).
    var rateLimitScope: String?

    /// A normal API answer (JSON, `Via: 1.1 google`).
    static func json(_ status: Int, bytes body: [UInt8]) -> FakeHTTPResponse {
        FakeHTTPResponse(status: status, headers: [("Content-Type", "application/json"), ("Via", "1.1 google")], body: body)
    }

    static func json(_ status: Int, _ value: some Encodable) -> FakeHTTPResponse { json(status, bytes: FakeJSON.encode(value)) }

    /// 204 No Content.
    static var noContent: FakeHTTPResponse { FakeHTTPResponse(status: 204, headers: [("Via", "1.1 google")], body: []) }

    /// Discord's error JSON, e.g. `{"message": "Missing Permissions", "code": 50013}`.
    static func error(_ status: Int, _ code: DiscordErrorCode, _ message: String, errors: String? = nil) -> FakeHTTPResponse {
        var text = "{\"message\": \(FakeJSON.quoted(message)), \"code\": \(code.rawValue)"
        if let errors { text += ", \"errors\": \(errors)" }
        text += "}"
        return json(status, bytes: Array(text.utf8))
    }

    static let unauthorized = error(401, .general, "401: Unauthorized")
    static let missingPermissions = error(403, .missingPermissions, "Missing Permissions")
    static let missingAccess = error(403, .missingAccess, "Missing Access")
    static let twoFactorRequired = error(403, .twoFactorRequired, "Two factor is required for this operation")
    static let unknownMember = error(404, .unknownMember, "Unknown Member")
    static let unknownRole = error(404, .unknownRole, "Unknown Role")
    static let unknownGuild = error(404, .unknownGuild, "Unknown Guild")
    static let notFound = error(404, .general, "404: Not Found")
    static let methodNotAllowed = error(405, .general, "405: Method Not Allowed")
    static let invalidJSON = error(400, .invalidJSON, "The request body contains invalid JSON.")

    /// 50035 Invalid Form Body with one error at `path` (e.g. ["roles", "0"] or ["nick"]; [] for the request).
    static func invalidForm(_ path: [String], code: String, message: String) -> FakeHTTPResponse {
        var tree = "{\"_errors\": [{\"code\": \(FakeJSON.quoted(code)), \"message\": \(FakeJSON.quoted(message))}]}"
        for key in path.reversed() { tree = "{\(FakeJSON.quoted(key)): \(tree)}" }
        return error(400, .invalidFormBody, "Invalid Form Body", errors: tree)
    }

    /// An HTML page from "the edge" (411, Cloudflare ban): not JSON, no `Via`.
    static func html(_ status: Int, title: String) -> FakeHTTPResponse {
        let page = "<html><head><title>\(status) \(title)</title></head><body><center><h1>\(status) \(title)</h1></center><hr><center>cloudflare</center></body></html>"
        return FakeHTTPResponse(status: status, headers: [("Content-Type", "text/html")], body: Array(page.utf8))
    }

    /// An OAuth2 error (RFC 6749 style, not a Discord code).
    static func oauthError(_ status: Int, _ error: String, _ description: String) -> FakeHTTPResponse {
        json(status, bytes: Array("{\"error\": \(FakeJSON.quoted(error)), \"error_description\": \(FakeJSON.quoted(description))}".utf8))
    }

    static func redirect(to location: String) -> FakeHTTPResponse {
        FakeHTTPResponse(status: 302, headers: [("Location", location)], body: [])
    }

    mutating func addHeaders(_ extra: [(String, String)]) { headers.append(contentsOf: extra) }
}
