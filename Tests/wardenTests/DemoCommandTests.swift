import Testing
@testable import warden

struct DemoCommandTests {
    @Test func tooFewMembersIsAUsageError() async {
        let run = await CommandRun(["demo", "--members", "3"])
        #expect(run.status == 2)
        #expect(run.errors.contains("--members must be between 8 and 100000"))
    }

    @Test func demoIsListedInHelp() async {
        let run = await CommandRun(["--help"])
        #expect(run.status == 0)
        #expect(run.output.contains("demo"))
    }
}
