import Foundation
import Testing
@testable import WardenLogging

/// Shaped like a Discord bot token (the first part is base64 of "803511102246789120"); never issued.
let botShapedToken = "ODAzNTExMTAyMjQ2Nzg5MTIw.GxYzAb.Q2hhbmdlTWVQbGVhc2VOb3RBUmVhbFRva2Vu"

@Suite("Redactor")
struct RedactorTests {
    @Test func textWithoutSecretsIsUnchanged() {
        let redactor = Redactor(secrets: ["registered-secret-value"])
        let line = "member 80351110224678912 roles updated (3 added, 1 removed) in guild Wayne.Enterprises.Corp"
        #expect(redactor.redact(line) == line)
        #expect(redactor.redact("") == "")
        #expect(redactor.redact("Bot connected to the gateway") == "Bot connected to the gateway")
        #expect(redactor.redact("Bot missing_permissions: MANAGE_ROLES") == "Bot missing_permissions: MANAGE_ROLES")
    }

    @Test func registeredSecretsAreMaskedWherever() {
        let redactor = Redactor()
        redactor.register("s3cr3t-app-secret-value")
        #expect(redactor.redact("exchange failed: client s3cr3t-app-secret-value rejected") == "exchange failed: client <redacted> rejected")
        #expect(redactor.redact("x=s3cr3t-app-secret-value-s3cr3t-app-secret-value") == "x=<redacted>-<redacted>")
        redactor.register("s3cr3t-app-secret-value") // twice is harmless
        #expect(redactor.registeredCount == 1)
        redactor.unregister("s3cr3t-app-secret-value")
        #expect(redactor.redact("s3cr3t-app-secret-value") == "s3cr3t-app-secret-value")
    }

    @Test func tooShortSecretsAreNotRegistered() {
        let redactor = Redactor(secrets: ["abc"])
        #expect(redactor.registeredCount == 0)
        #expect(redactor.redact("abc") == "abc")
    }

    @Test func botTokenShapesAreMaskedWithoutRegistration() {
        let redactor = Redactor()
        #expect(redactor.redact("token is \(botShapedToken).") == "token is <redacted>.")
        #expect(redactor.redact(#"{"op":2,"d":{"token":"\#(botShapedToken)","intents":3}}"#) == #"{"op":2,"d":{"token":"<redacted>","intents":3}}"#)
        // A dotted name whose first part does not decode to digits is no token.
        let notAToken = "aGVsbG8gd29ybGQgaGVsbG8.GxYzAb.Q2hhbmdlTWVQbGVhc2VOb3RBUmVhbFRva2Vu"
        #expect(redactor.redact(notAToken) == notAToken)
        #expect(redactor.redact("discord.gateway.session.resume") == "discord.gateway.session.resume")
        #expect(redactor.redact(botShapedToken) == "<redacted>")
        #expect(redactor.redact("x.\(botShapedToken)") == "x.<redacted>")
        #expect(redactor.redact("GET https://example.com/hook/\(botShapedToken)?wait=true") == "GET https://example.com/hook/<redacted>?wait=true")
    }

    @Test func authorizationCredentialsAreMasked() {
        let redactor = Redactor()
        #expect(redactor.redact("Authorization: Bot abcdefghijklmnopqrstuvwxyz0123") == "Authorization: Bot <redacted>")
        #expect(redactor.redact("Authorization: Bearer 6qrZcUqja7812RVdnEKjpzOL4CvHBFG") == "Authorization: Bearer <redacted>")
        #expect(redactor.redact("authorization: bearer 6qrZcUqja7812RVdnEKjpzOL4CvHBFG, next") == "authorization: bearer <redacted>, next")
    }

    @Test func credentialFieldsInJSONAndFormsAreMasked() {
        let redactor = Redactor()
        #expect(redactor.redact(#"{"access_token": "6qrZcUqja7812RVdnEKjpzOL4CvHBFG", "token_type": "Bearer"}"#)
                == #"{"access_token": "<redacted>", "token_type": "Bearer"}"#)
        #expect(redactor.redact("grant_type=authorization_code&code=abc&client_secret=Zx9Yw8Vu7Ts6Rq5Po4&redirect_uri=x")
                == "grant_type=authorization_code&code=abc&client_secret=<redacted>&redirect_uri=x")
    }

    @Test func registrationIsThreadSafe() async {
        let redactor = Redactor()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    redactor.register("concurrent-secret-\(index)-xyz")
                    _ = redactor.redact("line with concurrent-secret-\(index)-xyz inside")
                }
            }
        }
        #expect(redactor.registeredCount == 200)
        #expect(redactor.redact("concurrent-secret-150-xyz") == "<redacted>")
    }

    @Test func multiByteTextAroundSecretsSurvives() {
        let redactor = Redactor(secrets: ["ünïcødé-sécret"])
        #expect(redactor.redact("Café ünïcødé-sécret 🛡️") == "Café <redacted> 🛡️")
    }
}
