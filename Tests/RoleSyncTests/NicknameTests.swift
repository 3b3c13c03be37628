import AuthModels
import DiscordModels
import Testing
@testable import RoleSync

@Suite("Nicknames (SPEC 1.3)")
struct NicknameTests {
    /// Every key, for a main in an alliance and one outside any alliance.
    @Test(arguments: [
        (NameFormat.Key.characterName, "Bruce Wayne", "Selina Kyle"),
        (.characterID, "95465499", "95000002"),
        (.corpTicker, "WYE", "MEOW"),
        (.corpName, "Wayne Enterprises", "Cat Burglars"),
        (.corpID, "98000001", "98000002"),
        (.allianceName, "Justice League", ""),
        (.allianceID, "99000001", ""),
        (.allianceTicker, "JL", ""),
        (.username, "bruce_wayne", "bruce_wayne"),
        (.allianceOrCorpName, "Justice League", "Cat Burglars"),
        (.allianceOrCorpTicker, "JL", "MEOW"),
    ])
    func everyKey(_ key: NameFormat.Key, _ inAlliance: String, _ noAlliance: String) throws {
        let format = try NameFormat(parsing: "{\(key.rawValue)}")
        let config = RoleSyncConfig(syncNames: true, nameFormats: ["Member": format])
        #expect(Fixture.user(main: Fixture.bruce).nameFormatValue(key) == inAlliance)
        #expect(Fixture.user(main: Fixture.loner).nameFormatValue(key) == noAlliance)
        #expect(config.nickname(for: Fixture.user(main: Fixture.bruce)) == inAlliance)
        #expect(config.nickname(for: Fixture.user(main: Fixture.loner)) == (noAlliance.isEmpty ? nil : noAlliance))
    }

    @Test("alliance_or_corp falls back to the corporation when the alliance is empty")
    func allianceOrCorpEmptyAlliance() {
        var main = Fixture.bruce
        main.allianceName = ""
        main.allianceTicker = ""
        #expect(Fixture.user(main: main).nameFormatValue(.allianceOrCorpName) == "Wayne Enterprises")
        #expect(Fixture.user(main: main).nameFormatValue(.allianceOrCorpTicker) == "WYE")
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var label: String
        var config: RoleSyncConfig
        var user: AuthUser
        var expected: String?
        var testDescription: String { label }
    }

    static let member = try! NameFormat(parsing: "[{corp_ticker}] {character_name}")
    static let on = RoleSyncConfig(syncNames: true, nameFormats: ["Member": member])

    static let rows: [Row] = [
        Row(label: "AA: default format is the main's name", config: RoleSyncConfig(syncNames: true),
            user: Fixture.user(main: Fixture.bruce), expected: "Bruce Wayne"),
        Row(label: "AA: no main character → left alone", config: on, user: Fixture.user(main: nil), expected: nil),
        Row(label: "AA: sync_names off → never touched", config: RoleSyncConfig(syncNames: false, nameFormats: ["Member": member]),
            user: Fixture.user(main: Fixture.bruce), expected: nil),
        Row(label: "the state's format", config: on, user: Fixture.user(main: Fixture.bruce), expected: "[WYE] Bruce Wayne"),
        Row(label: "states not listed use {character_name}", config: on,
            user: Fixture.user(state: "Blue", main: Fixture.bruce), expected: "Bruce Wayne"),
        Row(label: "AA: a 50-scalar name is cut to 32", config: RoleSyncConfig(syncNames: true),
            user: Fixture.user(main: MainCharacter(characterID: 1, characterName: String(repeating: "Z", count: 50),
                                                   corporationID: 2, corporationName: "C", corporationTicker: "C")),
            expected: String(repeating: "Z", count: 32)),
        Row(label: "trimmed: missing alliance leaves no dangling space",
            config: RoleSyncConfig(syncNames: true, nameFormats: ["Member": try! NameFormat(parsing: "{character_name} {alliance_ticker}")]),
            user: Fixture.user(main: Fixture.loner), expected: "Selina Kyle"),
        Row(label: "empty after formatting → left alone",
            config: RoleSyncConfig(syncNames: true, nameFormats: ["Member": try! NameFormat(parsing: " {alliance_ticker} ")]),
            user: Fixture.user(main: Fixture.loner), expected: nil),
        Row(label: "literal braces", config: RoleSyncConfig(syncNames: true, nameFormats: ["Member": try! NameFormat(parsing: "{{{corp_ticker}}} {character_name}")]),
            user: Fixture.user(main: Fixture.bruce), expected: "{WYE} Bruce Wayne"),
    ]

    @Test(arguments: rows)
    func nickname(_ row: Row) {
        #expect(row.config.nickname(for: row.user) == row.expected)
    }
}
