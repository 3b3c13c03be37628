import DiscordModels
import Testing
import WardenConfig
@testable import warden

@Suite("Admin API client and status summary")
struct AdminAPIClientTests {
    @Test(arguments: [
        ("127.0.0.1", 8080, "http://127.0.0.1:8080"),
        ("0.0.0.0", 8080, "http://127.0.0.1:8080"),
        ("::", 9000, "http://[::1]:9000"),
        ("::1", 9000, "http://[::1]:9000"),
        ("warden.internal", 80, "http://warden.internal:80"),
    ])
    func theDaemonIsReachedAtItsListenAddress(_ host: String, _ port: Int, _ expected: String) {
        #expect(AdminAPIClient.baseURL(for: ListenAddress(host: host, port: port)) == expected)
    }

    @Test func errorsNeverHoldTheToken() {
        let errors: [AdminAPIError] = [
            .unreachable(baseURL: "http://127.0.0.1:8080", listen: "127.0.0.1:8080", reason: "refused"),
            .unauthorized, .refused(status: 500, message: nil), .refused(status: 400, message: "groups: expected an array"),
            .unexpectedAnswer("x"),
        ]
        for error in errors { #expect(!error.description.contains(sentinelAdminToken)) }
        #expect(AdminAPIError.refused(status: 400, message: "groups: expected an array").description
                == "the daemon answered 400: groups: expected an array")
    }

    @Test func aStatusWithMissingFieldsStillPrints() {
        let lines = StatusSummary.lines(.object(["linked_users": .number(3)]))
        #expect(lines.first == "gateway       ?")
        #expect(lines.contains("linked users  3"))
        #expect(lines.contains("alerts        none open"))
    }

    @Test func theProgressBarIsBoundedAndHonest() throws {
        func report(_ state: String, _ done: Int, _ total: Int) throws -> TaskRunReport {
            try #require(TaskRunReport(.object(["state": .string(state), "done": .number(Double(done)), "total": .number(Double(total))])))
        }
        #expect(TaskProgressDisplay.bar(try report("running", 1, 3), width: 10).hasPrefix("[###-------]  33%  1/3 "))
        #expect(TaskProgressDisplay.bar(try report("running", 5, 3), width: 10).hasPrefix("[##########] 100%  5/3 "), "never past full")
        #expect(TaskProgressDisplay.bar(try report("done", 0, 0), width: 10).hasPrefix("[##########] 100%"), "a task over no users is complete")
        #expect(TaskRunReport(.object(["done": .number(1)])) == nil, "no state: not a task")
    }
}
