@testable import DiscordREST
import Testing

@Suite struct AuditLogReasonTests {
    @Test func everythingButUnreservedCharactersIsPercentEncoded() {
        #expect(AuditLogReason.headerValue("Auth group Fleet Commanders/FC: added") ==
                "Auth%20group%20Fleet%20Commanders%2FFC%3A%20added")
        #expect(AuditLogReason.headerValue("a-b.c_d~e") == "a-b.c_d~e")
        #expect(AuditLogReason.headerValue("Café ✓") == "Caf%C3%A9%20%E2%9C%93")
        #expect(AuditLogReason.headerValue("   ") == nil)
    }

    @Test func theReasonIsCutTo512CharactersBeforeEncodingNeverInsideACharacter() throws {
        let long = String(repeating: "é", count: 600)
        let value = try #require(AuditLogReason.headerValue(long))
        #expect(value == String(repeating: "%C3%A9", count: 512))  // 512 characters, 1024 bytes, 3072 encoded
        // A flag is two scalars: 255 flags fill 510, the 256th would reach 512, a 257th would pass it.
        let flags = String(repeating: "🇫🇷", count: 300)
        #expect(AuditLogReason.truncated(flags).unicodeScalars.count == 512)
        #expect(AuditLogReason.truncated("x" + flags).unicodeScalars.count == 511)
        #expect(AuditLogReason.truncated("short") == "short")
    }
}
