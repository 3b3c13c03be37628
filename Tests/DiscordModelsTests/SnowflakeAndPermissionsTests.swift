import DiscordModels
import Testing

@Suite struct SnowflakeTests {
    @Test func decodesFromStringAndFromNumberAndEncodesAsString() throws {
        #expect(try decodeJSON(Snowflake.self, #""80351110224678912""#) == Snowflake(80351110224678912))
        #expect(try decodeJSON(Snowflake.self, "80351110224678912") == Snowflake(80351110224678912))
        #expect(try encodeJSON([Snowflake(18446744073709551615)]) == #"["18446744073709551615"]"#)
    }

    @Test(arguments: [#""""#, #""-1""#, #"" 12""#, #""12a""#, #""18446744073709551616""#, "-5", "1.5", "true", "null"])
    func rejectsAnythingButADecimalId(_ json: String) {
        #expect(throws: DecodingError.self) { try decodeJSON(Snowflake.self, json) }
    }

    @Test func ordersByValueAndKnowsItsCreationTime() {
        #expect(Snowflake(9) < Snowflake(10))
        // Discord's documentation example: 175928847299117063 was made at 1462015105796 ms.
        #expect(Snowflake(175928847299117063).timestampMilliseconds == 1462015105796)
    }
}

@Suite struct PermissionsTests {
    @Test func decodesTheDecimalStringAndEncodesItBack() throws {
        let permissions = try decodeJSON(Permissions.self, #""402653187""#)
        #expect(permissions == [.manageRoles, .manageNicknames, .kickMembers, .createInstantInvite])
        #expect(permissions == .wardenRequired)
        #expect(try encodeJSON([permissions]) == #"["402653187"]"#)
    }

    @Test func keepsBitsAbove32AndUnknownBits() throws {
        let permissions = try decodeJSON(Permissions.self, #""1099511627776""#)
        #expect(permissions.contains(.moderateMembers))
        let unknown = try decodeJSON(Permissions.self, #""4503599627370496""#)
        #expect(unknown.rawValue == 1 << 52)
    }

    @Test func rejectsNonDecimalText() {
        #expect(throws: DecodingError.self) { try decodeJSON(Permissions.self, #""0x10""#) }
        #expect(throws: DecodingError.self) { try decodeJSON(Permissions.self, #""-8""#) }
    }

    @Test func namesTheBitsInDiscordsSpelling() {
        #expect(Permissions([.manageRoles, .kickMembers]).names == ["KICK_MEMBERS", "MANAGE_ROLES"])
        #expect(!Permissions.wardenRequired.contains(.administrator))
    }
}
