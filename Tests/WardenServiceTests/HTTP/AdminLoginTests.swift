import Foundation
import Testing
@testable import WardenService

/// Failed admin logins are logged (client address, path; never the token offered) and slowed
/// (SPEC 3.3, issue 13 item 10).
@Suite(.timeLimit(.minutes(5))) struct AdminLoginTests {
    static let offered = "offered-token-never-logged-5c2e81d07a"

    static func request(_ path: String, bearer: String?) -> String {
        "GET \(path) HTTP/1.1\r\nHost: warden\r\n" + (bearer.map { "Authorization: Bearer \($0)\r\n" } ?? "") + "\r\n"
    }

    @Test func aFailedLoginIsLoggedWithTheClientAddressAndPathButNeverTheToken() async throws {
        let harness = try HTTPHarness()
        try await harness.live { port in
            let connection = try await RawConnection.open(port: port)
            try await connection.send(Self.request("/api/users/42?admin_token=\(Self.offered)", bearer: Self.offered))
            #expect(await connection.waitForResponse(endingWith: "}").hasPrefix("HTTP/1.1 401"))
            await connection.close()
        }
        let lines = harness.logLines.current
        let failure = try #require(lines.first { $0.contains("admin API authentication failed") }, "\(lines)")
        #expect(failure.hasPrefix("warning "))
        #expect(failure.contains("127.0.0.1"), "the client address: \(failure)")
        #expect(failure.contains("/api/users/42"), "the path: \(failure)")
        #expect(!failure.contains("admin_token="), "not the query")
        #expect(lines.allSatisfy { !$0.contains(Self.offered) }, "the offered token is in no log line")
        #expect(harness.metrics.exposition().contains("warden_http_admin_auth_failures_total 1"))
    }

    @Test func failuresFromOneAddressAreSlowedMoreEachTimeUntilTheTokenIsGiven() async throws {
        let harness = try HTTPHarness()
        try await harness.test { client in
            for _ in 0..<7 {
                let wrong = try await client.execute(uri: "/api/status", method: .get, headers: [.authorization: "Bearer wrong"])
                #expect(wrong.status == .unauthorized)
            }
            let right = try await client.execute(uri: "/api/status", method: .get, headers: HTTPHarness.auth)
            #expect(right.status == .ok)
            let none = try await client.execute(uri: "/api/status", method: .get)
            #expect(none.status == .unauthorized)
        }
        #expect(harness.pauses.current == [.milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(4),
                                           .seconds(4), .milliseconds(250)],
                "doubling from 250 ms, capped at 4 s, and back to 250 ms after a success")
        // A flood does not flood the log: the first failures are logged, then only every hundredth.
        #expect(harness.logLines.current.filter { $0.contains("admin API authentication failed") }.count == 6)
    }

    @Test func theAnswerToAFailedLoginWaitsForTheDelay() async throws {
        let gate = Gate()
        var harness = try HTTPHarness()
        harness.pause = { _ in await gate.pass() }
        try await harness.live { port in
            let connection = try await RawConnection.open(port: port)
            try await connection.send(Self.request("/api/status", bearer: "wrong"))
            await gate.waitUntilHeld(1)
            // The request is in the server, held by its delay: nothing has been answered.
            #expect(connection.received.isEmpty)
            gate.open()
            #expect(await connection.waitForResponse(endingWith: "}").hasPrefix("HTTP/1.1 401"))
            await connection.close()
        }
    }

    @Test func theThrottleForgetsQuietAddressesAndBoundsItsMemory() {
        let now = TestBox(ContinuousClock.now)
        var policy = AdminLoginThrottle.Policy()
        policy.maxTracked = 2
        let throttle = AdminLoginThrottle(policy: policy, now: { now.current })
        #expect(throttle.failed(from: "a").failures == 1)
        #expect(throttle.failed(from: "a").failures == 2)
        now.withLock { $0 += policy.forgetAfter }
        let again = throttle.failed(from: "a")
        #expect(again.failures == 1 && again.delay == .milliseconds(250), "quiet for forgetAfter: starts again")
        now.withLock { $0 += .seconds(1) }
        _ = throttle.failed(from: "b")
        now.withLock { $0 += .seconds(1) }
        _ = throttle.failed(from: "c")   // a is the oldest: forgotten
        #expect(throttle.failed(from: "b").failures == 2)
        #expect(throttle.failed(from: "a").failures == 1)
        throttle.succeeded(from: "a")
        #expect(throttle.failed(from: "a").failures == 1)
    }
}
