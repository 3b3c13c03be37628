import Foundation
import Testing
@testable import warden

/// `warden link-url USER_ID --ttl SECONDS` (SPEC 1.9, 3.1): a link sent by hand may live longer, up to 7 days.
@Suite("warden link-url --ttl")
struct LinkURLTTLTests {
    static let answer = #"{"url": "https://auth.example.com/discord/activate?token=abc.def", "expires_at": "2026-11-30T02:00:00Z"}"#

    @Test func theTTLIsSentInTheBody() async throws {
        let (run, received) = try await AdminAPIStub.with(reply: { _ in .init(.ok, Self.answer) }) { stub in
            (try await ClientCommandsTests.run(["link-url", "42", "--ttl", "86400"], against: stub), stub.received)
        }
        #expect(run.status == 0, "\(run.errors)")
        let request = try #require(received.first)
        #expect(request.method == "POST" && request.path == "/api/users/42/discord/activation-link")
        #expect(request.contentType == "application/json")
        #expect(request.bodyText == #"{"ttl": 86400}"#)
        #expect(run.standardOutput.first == "https://auth.example.com/discord/activate?token=abc.def")
    }

    @Test func withoutTTLNoBodyIsSent() async throws {
        let received = try await AdminAPIStub.with(reply: { _ in .init(.ok, Self.answer) }) { stub in
            _ = try await ClientCommandsTests.run(["link-url", "42"], against: stub)
            return stub.received
        }
        #expect(received.first?.bodyText == "")
    }

    @Test(arguments: ["604801", "0", "-5", "week"])
    func aTTLOutOfRangeIsAUsageErrorNamingTheOption(_ ttl: String) async {
        let run = await CommandRun(["link-url", "42", "--ttl", ttl, "--config", "/nowhere.json"])
        #expect(run.status == 2)
        #expect(run.errors.contains("--ttl"), "\(run.errors)")
    }

    @Test func sevenDaysIsAllowed() async throws {
        let run = try await AdminAPIStub.with(reply: { _ in .init(.ok, Self.answer) }) { stub in
            try await ClientCommandsTests.run(["link-url", "42", "--ttl", "604800"], against: stub)
        }
        #expect(run.status == 0, "\(run.errors)")
    }
}
