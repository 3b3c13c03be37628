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

        // Claim another user with the original signature.
        let parts = text.split(separator: ".")
        let forgedPayload = Base64URL.encode(Array("state|8|600|\(Base64URL.decode(parts[0]).map { String(decoding: $0, as: UTF8.self) }!.split(separator: "|")[3])".utf8))
        #expect(throws: SignedToken.Rejection.badSignature) { try signer.verify(forgedPayload + "." + parts[1], purpose: .oauthState, now: 1) }

        for junk in ["", ".", "abc", "a.b.c", "!!!.???", String(repeating: "a", count: 600) + ".b"] {
            #expect(throws: SignedToken.Rejection.malformed) { try signer.verify(junk, purpose: .oauthState, now: 1) }
        }
    }

    @Test func twoTokensForTheSameUserDiffer() {
        let a = signer.sign(SignedToken(purpose: .oauthState, userID: 1, expiresAt: 10))
        let b = signer.sign(SignedToken(purpose: .oauthState, userID: 1, expiresAt: 10))
        #expect(a != b, "a random nonce makes each state single-use-able")
    }
}
