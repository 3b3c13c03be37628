import DiscordModels
import Testing
@testable import RoleSync

@Suite("Look-up tables")
struct LookupTableTests {
    @Test("ASCII and non-ASCII names are found by canonical equivalence")
    func nameTable() {
        let table = NameTable(["Alpha": 1, "Caf\u{E9}": 2, "\u{212A}ilo": 3, "a;b": 4, "Fleet Commanders of the Long Name": 5])
        #expect(table["Alpha"] == 1)
        #expect(table["alpha"] == nil)
        #expect(table["Alph"] == nil)
        #expect(table["Caf\u{E9}"] == 2)
        #expect(table["Cafe\u{301}"] == 2)
        #expect(table["Kilo"] == 3)           // KELVIN SIGN is canonically "K"
        #expect(table["\u{212A}ilo"] == 3)
        #expect(table["a\u{37E}b"] == 4)      // GREEK QUESTION MARK is canonically ";"
        #expect(table["Fleet Commanders of the Long Name"] == 5)
        #expect(table["Fleet Commanders of the Long Nam"] == nil)
        #expect(table[""] == nil)
        #expect(NameTable<Int>([:])["Alpha"] == nil)
    }

    @Test("many names, all found, none invented")
    func nameTableMany() {
        var entries: [String: Int] = [:]
        for i in 0..<500 { entries["Group \(i)"] = i }
        let table = NameTable(entries)
        for i in 0..<500 { #expect(table["Group \(i)"] == i) }
        #expect(table["Group 500"] == nil)
    }

    @Test("role table finds every id and nothing else")
    func roleTable() {
        var entries: [Snowflake: Int] = [:]
        for i in 0..<300 { entries[Snowflake(UInt64(1_000_000_000_000_000 + i * 4_194_304))] = i }
        let table = RoleTable(entries)
        for (id, value) in entries { #expect(table[id] == value) }
        #expect(table[Snowflake(0)] == nil)
        #expect(table[Snowflake(42)] == nil)
    }

    @Test("a role named with a KELVIN SIGN is the group \"Kilo\"")
    func canonicalRoleName() {
        let planner = Fixture.planner(roles: Fixture.roles + [Fixture.role(36, "\u{212A}ilo", 9)])
        let plan = planner.checkedPlan(for: Fixture.user(["Kilo"]), member: Fixture.member([10]))
        #expect(plan.rolesToAdd.ids == [36] && plan.rolesToCreate.isEmpty)
    }
}

@Suite("Members with many roles")
struct ManyRolesTests {
    @Test("a member holding more than 64 roles is checked as exactly", arguments: [0, 1])
    func manyRoles(_ missing: Int) {
        let extra = (0..<70).map { Fixture.role(UInt64(2000 + $0), "G\($0)", 9 + $0) }
        let bot = Fixture.role(900, "Warden", 200, managed: true)
        let planner = Fixture.planner(roles: [Fixture.everyone, Fixture.role(10, "Member", 1), bot] + extra, botRole: bot)
        let user = Fixture.user((0..<70).map { "G\($0)" })
        let held = [10] + (missing..<70).map { UInt64(2000 + $0) }
        let plan = planner.checkedPlan(for: user, member: Fixture.member(held))
        #expect(plan.isInSync == (missing == 0))
        #expect(plan.rolesToAdd.ids == (missing == 0 ? [] : [2000]))
    }
}
