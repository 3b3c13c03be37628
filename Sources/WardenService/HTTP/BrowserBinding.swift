import Crypto
import Foundation

/// Binds an OAuth `state` to the browser that opened the activation link (SPEC 1.9): `/discord/activate`
/// sets a cookie with a random value and signs its SHA-256 hash into the state; the callback accepts
/// the state only from a browser that sends that cookie. A state lured into another browser (login
/// CSRF: linking the victim's Discord account to the attacker's Auth user) is refused.
struct BrowserBinding: Sendable {
    /// The cookie's value: 32 random bytes, base64url.
    let value: String
    /// What the state carries: base64url(SHA-256(value)).
    var hash: String { Self.hash(value) }

    static func random() -> BrowserBinding {
        var generator = SystemRandomNumberGenerator()
        return BrowserBinding(value: Base64URL.encode((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }))
    }

    static func hash(_ value: String) -> String { Base64URL.encode(Array(SHA256.hash(data: Data(value.utf8)))) }

    /// Whether one of the cookies named `name` in the `Cookie` header values hashes to `expected`.
    /// An empty `expected` (a state without a binding) never matches.
    static func matches(_ expected: String, cookieHeaders: [String], name: String) -> Bool {
        guard !expected.isEmpty else { return false }
        var found = false
        for value in cookieValues(named: name, in: cookieHeaders) where constantTimeEqual(hash(value), expected) {
            found = true
        }
        return found
    }

    /// The values of every cookie `name` in `Cookie` headers (`a=1; name=v; b=2`).
    static func cookieValues(named name: String, in headers: [String]) -> [String] {
        headers.flatMap { $0.split(separator: ";") }.compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name else { return nil }
            return parts[1].trimmingCharacters(in: .whitespaces)
        }
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}

/// A cookie a linking route sets (`Set-Cookie`).
public struct LinkCookie: Hashable, Sendable {
    public var name: String
    public var value: String
    /// Sent back only to this path and below: the callback's.
    public var path: String
    /// `Secure`: only over https.
    public var secure: Bool
    /// Seconds.
    public var maxAge: Int

    /// `name=value; Path=…; Max-Age=…; HttpOnly; SameSite=Lax[; Secure]`. Lax: the browser sends it on
    /// the top-level redirect back from Discord, and on no cross-site subrequest.
    public var headerValue: String {
        "\(name)=\(value); Path=\(path); Max-Age=\(maxAge); HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }
}
