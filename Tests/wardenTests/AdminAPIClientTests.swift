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
        #expect(AdminClientConfiguration.url(reaching: ListenAddress(host: host, port: port)).absoluteString == expected)
    }

    @Test func errorsNeverHoldTheToken() {
        let errors: [AdminAPIError] = [
            .unreachable(baseURL: "http://127.0.0.1:8080", origin: "http.listen", reason: "refused"),
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

    @Test func aTaskAnswerWithoutAStateIsNotATask() {
        #expect(TaskRunReport(.object(["done": .number(1)])) == nil)
        #expect(TaskRunReport(.object(["state": .string("running"), "done": .number(-3)]))?.done == 0, "a negative count reads as 0")
    }
}
