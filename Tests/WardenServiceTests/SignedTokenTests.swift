import Testing
@testable import WardenService

@Suite struct SignedTokenTests {
    let signer = TokenSigner(secret: "app-secret-for-tests")

    @Test func aSignedTokenVerifiesAndCarriesItsUser() throws {
        let text = signer.sign(SignedToken(purpose: .activation, userID: 42, expiresAt: 1_000))
        let token = try signer.verify(text, purpose: .activation, now: 999)
        #expect(token.userID == 42)
        #expect(token.nonce.count >= 16)
    }

    @Test func expiredForgedTamperedAndMisusedTokensAreRefused() {
        let text = signer.sign(SignedToken(purpose: .oauthState, userID: 7, expiresAt: 600))
        #expect(throws: SignedToken.Rejection.expired) { try signer.verify(text, purpose: .oauthState, now: 600) }
        #expect(throws: SignedToken.Rejection.wrongPurpose) { try signer.verify(text, purpose: .activation, now: 1) }

        let other = TokenSigner(secret: "another-secret")
        #expect(throws: SignedToken.Rejection.badSignature) { try other.verify(text, purpose: .oauthState, now: 1) }

        // Claim another user, another generation or another browser with the original signature.
        let parts = text.split(separator: ".")
        let fields = String(decoding: Base64URL.decode(parts[0])!, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        #expect(fields.count == 7)
        for (index, value) in [(1, "8"), (4, "1"), (6, "another-browser")] {
            var forged = fields
            forged[index] = value
            let payload = Base64URL.encode(Array(forged.joined(separator: "|").utf8))
            #expect(throws: SignedToken.Rejection.badSignature) { try signer.verify(payload + "." + parts[1], purpose: .oauthState, now: 1) }
        }
        // The payload of an older format (four fields) is not a token.
        let old = Base64URL.encode(Array(fields.prefix(4).joined(separator: "|").utf8))
        #expect(throws: SignedToken.Rejection.malformed) { try signer.verify(old + "." + parts[1], purpose: .oauthState, now: 1) }

        for junk in ["", ".", "abc", "a.b.c", "!!!.???", String(repeating: "a", count: 600) + ".b"] {
            #expect(throws: SignedToken.Rejection.malformed) { try signer.verify(junk, purpose: .oauthState, now: 1) }
        }
    }

    /// A 32-byte MAC is 43 base64url characters whose last one carries 2 unused bits: a spelling that
    /// differs only there decodes to the same bytes, and must not pass for the genuine token (a tampered
    /// state would otherwise verify and spend the genuine one).
    @Test func aTokenHasOneSpellingOnly() throws {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let text = signer.sign(SignedToken(purpose: .oauthState, userID: 7, expiresAt: 600))
        _ = try signer.verify(text, purpose: .oauthState, now: 1)
        let lastCharacter = try #require(text.last)
        let last = try #require(alphabet.firstIndex(of: lastCharacter))
        for flip in 1...3 {
            let respelt = String(text.dropLast()) + String(alphabet[last ^ flip])
            #expect(throws: SignedToken.Rejection.malformed) { try signer.verify(respelt, purpose: .oauthState, now: 1) }
        }
        #expect(Base64URL.decode("QQ") == [0x41])
        #expect(Base64URL.decode("QR") == nil)
    }

    @Test func aStateCarriesItsGenerationLinkAndBrowser() throws {
        let text = signer.sign(SignedToken(purpose: .oauthState, userID: 42, expiresAt: 600, generation: 3, link: "link-nonce", browser: "hash"))
        let token = try signer.verify(text, purpose: .oauthState, now: 1)
        #expect(token.generation == 3 && token.link == "link-nonce" && token.browser == "hash")
        #expect(text.utf8.count < 512)
    }

    @Test func twoTokensForTheSameUserDiffer() {
        let a = signer.sign(SignedToken(purpose: .oauthState, userID: 1, expiresAt: 10))
        let b = signer.sign(SignedToken(purpose: .oauthState, userID: 1, expiresAt: 10))
        #expect(a != b, "a random nonce makes each state single-use-able")
    }
}
