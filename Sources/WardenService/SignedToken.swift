import Crypto
import Foundation

/// A short signed token for links Warden hands out: the activation link of one Auth user and the OAuth
/// `state`. Format: `base64url(payload) "." base64url(HMAC-SHA256(payload))`, payload =
/// `purpose|user id|expiry (unix seconds)|nonce|link generation|link|browser`. The key is derived from
/// the app secret with HKDF, one key per purpose, so a token of one kind can never pass as the other.
public struct SignedToken: Hashable, Sendable {
    public enum Purpose: String, Sendable {
        case activation
        case oauthState = "state"
    }

    public var purpose: Purpose
    public var userID: Int64
    public var expiresAt: Int64
    public var nonce: String
    /// The user's link generation when the activation link was issued (a state carries its link's):
    /// the link is dead once the store's generation moved on (SPEC 1.9).
    public var generation: Int64
    /// A state only: the nonce of the activation link it came from (callbacks are throttled per link).
    public var link: String
    /// A state only: the hash of the cookie `/discord/activate` set in the browser that asked for it.
    public var browser: String

    public init(purpose: Purpose, userID: Int64, expiresAt: Int64, nonce: String = SignedToken.randomNonce(),
                generation: Int64 = 0, link: String = "", browser: String = "") {
        self.purpose = purpose; self.userID = userID; self.expiresAt = expiresAt; self.nonce = nonce
        self.generation = generation; self.link = link; self.browser = browser
    }

    public static func randomNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Base64URL.encode(bytes)
    }

    /// Why a presented token is refused. The text is safe to show: it never echoes the token.
    public enum Rejection: Error, Hashable, Sendable, CustomStringConvertible {
        case malformed
        case badSignature
        case wrongPurpose
        case expired

        public var description: String {
            switch self {
            case .malformed: "the link is malformed"
            case .badSignature: "the link was not issued by this Warden"
            case .wrongPurpose: "the link is of the wrong kind"
            case .expired: "the link has expired"
            }
        }
    }
}

/// Signs and verifies `SignedToken`s with keys derived from one secret.
public struct TokenSigner: Sendable {
    // Raw key bytes: SymmetricKey is not Sendable in this swift-crypto version.
    private let activationKey: [UInt8]
    private let stateKey: [UInt8]

    public init(secret: String) {
        let master = SymmetricKey(data: Data(secret.utf8))
        func derive(_ info: String) -> [UInt8] {
            HKDF<SHA256>.deriveKey(inputKeyMaterial: master, salt: Data("warden-token-v1".utf8),
                                   info: Data(info.utf8), outputByteCount: 32).withUnsafeBytes { Array($0) }
        }
        activationKey = derive("activation")
        stateKey = derive("state")
    }

    private func key(_ purpose: SignedToken.Purpose) -> SymmetricKey {
        SymmetricKey(data: purpose == .activation ? activationKey : stateKey)
    }

    public func sign(_ token: SignedToken) -> String {
        let fields = [token.purpose.rawValue, String(token.userID), String(token.expiresAt), token.nonce,
                      String(token.generation), token.link, token.browser]
        precondition(fields.allSatisfy { !$0.contains("|") }, "token fields never hold the separator")
        let payload = Array(fields.joined(separator: "|").utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: payload, using: key(token.purpose))
        return Base64URL.encode(payload) + "." + Base64URL.encode(Array(mac))
    }

    /// Verifies the signature (in constant time), the purpose and the expiry.
    public func verify(_ text: String, purpose: SignedToken.Purpose, now: Int64) throws(SignedToken.Rejection) -> SignedToken {
        guard text.utf8.count <= 512 else { throw .malformed }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = Base64URL.decode(parts[0]), let mac = Base64URL.decode(parts[1]) else {
            throw .malformed
        }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
        guard fields.count == 7, let claimed = SignedToken.Purpose(rawValue: String(fields[0])),
              let userID = Int64(fields[1]), let expiresAt = Int64(fields[2]), let generation = Int64(fields[4]) else {
            throw .malformed
        }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key(claimed)) else {
            throw .badSignature
        }
        guard claimed == purpose else { throw .wrongPurpose }
        guard now < expiresAt else { throw .expired }
        return SignedToken(purpose: claimed, userID: userID, expiresAt: expiresAt, nonce: String(fields[3]),
                           generation: generation, link: String(fields[5]), browser: String(fields[6]))
    }
}

/// Base64 with the URL alphabet and no padding (RFC 4648 section 5).
enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        guard text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F }) else {
            return nil
        }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        // Only the canonical text of some bytes: the last character's unused low bits must be zero, so a
        // token cannot be spelt two ways (one spelling would otherwise pass for the other and spend it).
        guard let bytes = Data(base64Encoded: base64).map(Array.init), encode(bytes).utf8.elementsEqual(text.utf8) else {
            return nil
        }
        return bytes
    }
}
