import Testing
@testable import RoleSync

struct CutCase: Sendable, CustomTestStringConvertible {
    var label: String
    var input: String
    var limit: Int
    var expected: String
    var testDescription: String { label }

    static let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}"  // 5 scalars, one cluster
    static let all: [CutCase] = [
        CutCase(label: "short name unchanged", input: "Fleet Commanders", limit: 100, expected: "Fleet Commanders"),
        CutCase(label: "exactly at the limit unchanged", input: String(repeating: "a", count: 100), limit: 100,
                expected: String(repeating: "a", count: 100)),
        CutCase(label: "cut to the limit", input: String(repeating: "a", count: 120), limit: 100,
                expected: String(repeating: "a", count: 100)),
        CutCase(label: "ZWJ family that does not fit is dropped whole",
                input: String(repeating: "a", count: 99) + family, limit: 100, expected: String(repeating: "a", count: 99)),
        CutCase(label: "ZWJ family that fits exactly is kept",
                input: String(repeating: "a", count: 95) + family + "b", limit: 100,
                expected: String(repeating: "a", count: 95) + family),
        CutCase(label: "flags are pairs: never half a flag", input: "\u{1F1EB}\u{1F1F7}\u{1F1E9}\u{1F1EA}", limit: 3,
                expected: "\u{1F1EB}\u{1F1F7}"),
        CutCase(label: "a combining mark stays with its letter", input: "abe\u{301}", limit: 3, expected: "ab"),
        CutCase(label: "a cluster longer than the limit leaves nothing", input: "e\u{301}\u{302}", limit: 2, expected: ""),
        CutCase(label: "cut counts scalars, not UTF-8 bytes", input: "ÉÉÉÉ", limit: 3, expected: "ÉÉÉ"),
        CutCase(label: "whitespace exposed by the cut is trimmed", input: "abc def", limit: 4, expected: "abc"),
        CutCase(label: "leading and trailing whitespace trimmed", input: "  Alpha \t\n", limit: 100, expected: "Alpha"),
        CutCase(label: "leading whitespace does not use the budget", input: "    abcdef", limit: 3, expected: "abc"),
        CutCase(label: "Unicode White_Space trimmed (NBSP, ideographic space, line separator)",
                input: "\u{A0}Alpha\u{3000}\u{2028}", limit: 100, expected: "Alpha"),
        CutCase(label: "zero-width space is not White_Space and stays", input: "\u{200B}Alpha", limit: 100,
                expected: "\u{200B}Alpha"),
        CutCase(label: "inner whitespace kept", input: "Fleet  Commanders", limit: 100, expected: "Fleet  Commanders"),
        CutCase(label: "blank becomes empty", input: " \u{A0}\u{3000} ", limit: 100, expected: ""),
        CutCase(label: "empty stays empty", input: "", limit: 32, expected: ""),
        CutCase(label: "a space carrying a combining mark is not blank", input: " \u{301}x", limit: 32, expected: " \u{301}x"),
    ]
}

@Suite("Text rules (SPEC 1.2)")
struct DiscordTextTests {
    @Test(arguments: CutCase.all)
    func cut(_ row: CutCase) {
        let result = DiscordText.cut(row.input, toScalars: row.limit)
        #expect(result.unicodeScalars.elementsEqual(row.expected.unicodeScalars))
        #expect(result.unicodeScalars.count <= row.limit)
        // Idempotent: cutting again changes nothing.
        #expect(DiscordText.cut(result, toScalars: row.limit).unicodeScalars.elementsEqual(result.unicodeScalars))
    }

    @Test("role names cut to 100, nicknames to 32")
    func limits() {
        let long = String(repeating: "n", count: 50)
        #expect(DiscordText.roleName(long + long + long).unicodeScalars.count == 100)
        #expect(DiscordText.nickname(long).unicodeScalars.count == 32)
    }

    @Test("names compare by canonical equivalence")
    func canonical() {
        #expect(DiscordText.roleName("Caf\u{E9}") == DiscordText.roleName("Cafe\u{301}"))
        #expect(Set([DiscordText.roleName("Caf\u{E9}"), DiscordText.roleName("Cafe\u{301}")]).count == 1)
    }

    @Test("reserved keys are lower-cased after the cut", arguments: [
        ("Alpha", "alpha"), ("ALPHA", "alpha"), ("  Charlie ", "charlie"), ("CAF\u{C9}", "cafe\u{301}"),
        (String(repeating: "X", count: 105), String(repeating: "x", count: 100)),
    ])
    func reservedKey(_ name: String, _ key: String) {
        #expect(DiscordText.reservedKey(name) == key)
    }
}
