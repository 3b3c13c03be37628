@testable import DiscordModels
import Testing

@Suite struct RoleTests {
    @Test func decodesTheDocumentedRoleIgnoringUnknownFields() throws {
        let role = try Fixture.decode(Role.self, "role")
        #expect(role.id == Snowflake(41771983423143936))
        #expect(role.name == "WE DEM BOYZZ!!!!!!")
        #expect(role.position == 1)
        #expect(role.permissions.rawValue == 66321471)
        #expect(!role.managed)
        #expect(role.tags == nil)
    }

    @Test func aTagPresentWithNullMeansTrue() throws {
        let booster = try Fixture.decode(Role.self, "role-booster")
        #expect(booster.managed)
        #expect(booster.tags?.premiumSubscriber == true)
        #expect(booster.tags?.availableForPurchase == false)
        #expect(booster.tags?.botID == nil)

        let bot = try Fixture.decode(Role.self, "role-bot")
        #expect(bot.tags?.botID == Snowflake(1111111111111111111))
        #expect(bot.tags?.premiumSubscriber == false)
    }

    @Test func booleanTagsSurviveARoundTrip() throws {
        let booster = try Fixture.decode(Role.self, "role-booster")
        let again = try decodeJSON(Role.self, try encodeJSON(booster))
        #expect(again == booster)
    }

    @Test func rankIsPositionThenLowerIdFirst() {
        let old = Role(id: 10, name: "old", position: 3)
        let young = Role(id: 20, name: "young", position: 3)
        let high = Role(id: 30, name: "high", position: 4)
        #expect(old.ranksAbove(young))
        #expect(!young.ranksAbove(old))
        #expect(high.ranksAbove(old))
    }
}

@Suite struct UserMemberGuildTests {
    @Test func decodesTheDocumentedMember() throws {
        let member = try Fixture.decode(GuildMember.self, "member")
        #expect(member.user?.id == Snowflake(80351110224678912))
        #expect(member.user?.username == "nelly")
        #expect(member.user?.discriminator == "0")
        #expect(member.user?.globalName == "Nelly")
        #expect(member.nick == "NOT API SUPPORT")
        #expect(member.roles == [Snowflake(41771983423143936)])
        #expect(!member.pending)
    }

    @Test func displaysNewAndLegacyNamesAsAuthDoes() {
        #expect(User(id: 1, username: "william_riker", discriminator: "0").display == "@william_riker")
        #expect(User(id: 1, username: "Bruce Wayne", discriminator: "1234").display == "Bruce Wayne#1234")
    }

    @Test func decodesTheDocumentedGuild() throws {
        let guild = try Fixture.decode(Guild.self, "guild")
        #expect(guild.id == Snowflake(2909267986263572999))
        #expect(guild.ownerID == Snowflake(53908232506183680))
        #expect(guild.mfaLevel == .elevated)
        #expect(guild.roles.count == 1)
        #expect(guild.roles[0].id == guild.id, "@everyone has the guild's id")
        #expect(guild.members == nil)
    }

    @Test func unavailableGuildTellsOutageFromRemoval() throws {
        #expect(try decodeJSON(UnavailableGuild.self, #"{"id": "1", "unavailable": true}"#).meansRemoved == false)
        #expect(try decodeJSON(UnavailableGuild.self, #"{"id": "1"}"#).meansRemoved == true)
    }

    @Test func gatewayBotCarriesTheIdentifyBudget() throws {
        let bot = try Fixture.decode(GatewayBot.self, "gateway-bot")
        #expect(bot.url == "wss://gateway.discord.gg")
        #expect(bot.sessionStartLimit.remaining == 999)
        #expect(bot.sessionStartLimit.resetAfter == 14_400_000)
        #expect(bot.sessionStartLimit.maxConcurrency == 1)
    }
}

@Suite struct DiscordErrorTests {
    @Test func flattensTheFieldErrorTree() throws {
        let body = try Fixture.decode(DiscordErrorBody.self, "error-invalid-form-body")
        #expect(body.code == .invalidFormBody)
        #expect(body.message == "Invalid Form Body")
        let errors = body.fieldErrors
        #expect(errors.contains(DiscordFieldError(path: "access_token", code: "BASE_TYPE_REQUIRED", message: "This field is required")))
        #expect(errors.contains { $0.path == "roles.0" && $0.code == "NUMBER_TYPE_COERCE" })
        #expect(errors.contains { $0.path == "" && $0.code == "APPLICATION_COMMAND_TOO_LARGE" })
        #expect(errors.count == 3)
    }

    @Test func decodesTheObservedShortShapes() throws {
        let unauthorized = try decodeJSON(DiscordErrorBody.self, #"{"message": "401: Unauthorized", "code": 0}"#)
        #expect(unauthorized.code == .general)
        let twoFactor = try decodeJSON(DiscordErrorBody.self, #"{"message": "Two factor is required for this operation", "code": 60003}"#)
        #expect(twoFactor.code == .twoFactorRequired)
        #expect(twoFactor.fieldErrors.isEmpty)
    }
}

@Suite struct SecretTests {
    @Test func neverShowsItsValueInText() {
        let secret = Secret("MTExMTExMTExMTExMTExMTExMQ.Gabcde.sentinel-token-value")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        #expect(!"\([secret])".contains("sentinel"))
    }
}
