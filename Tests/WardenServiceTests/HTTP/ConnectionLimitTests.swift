import Foundation
import NIOCore
import Testing
@testable import WardenService

/// `http.idle_timeout` and `http.max_connections` (SPEC 3.2, issue 13 item 7) with real sockets on
/// loopback: slow and idle clients are cut off, and a flood of them cannot lock out `/healthz`.
@Suite(.timeLimit(.minutes(5))) struct ConnectionLimitTests {
    static let healthz = "GET /healthz HTTP/1.1\r\nHost: warden\r\n\r\n"

    /// Counts of `warden_http_connections_closed_total` by reason.
    static func closed(_ harness: HTTPHarness, _ reason: String) -> Int {
        let prefix = #"warden_http_connections_closed_total{reason="\#(reason)"} "#
        return harness.metrics.exposition().split(separator: "\n").first { $0.hasPrefix(prefix) }
            .flatMap { Int($0.dropFirst(prefix.count)) } ?? 0
    }

    @Test func aRequestHeadSentAByteAtATimeIsCutOffAfterTheIdleTimeout() async throws {
        var harness = try HTTPHarness()
        harness.idleTimeout = .seconds(1)
        let timeout = harness.idleTimeout
        try await harness.live { port in
            let request = "GET /healthz HTTP/1.1\r\nHost: warden\r\nX-Padding: \(String(repeating: "a", count: 400))\r\n\r\n"
            let start = ContinuousClock.now
            // One byte every 50 ms: far more often than the timeout, so only a limit on the whole request stops it.
            let connection = try await RawConnection.open(port: port, thenDripping: request, every: .milliseconds(50))
            #expect(await connection.waitForClose(), "the server never closed the connection")
            #expect(start.duration(to: .now) >= timeout, "not before the timeout")
            #expect(connection.dripped >= 5, "bytes kept arriving (\(connection.dripped)) and it was cut off anyway")
            #expect(connection.dripped < request.utf8.count)
            #expect(connection.received.isEmpty, "no answer to a request that never arrived")
        }
        #expect(Self.closed(harness, "idle_timeout") == 1)
    }

    @Test func aRequestBodySentAByteAtATimeIsCutOffToo() async throws {
        var harness = try HTTPHarness()
        harness.idleTimeout = .seconds(1)
        try await harness.addUser(42)
        try await harness.live { port in
            let body = HTTPHarness.record(id: 42, groups: ["Dripped"])
            let head = "PUT /api/users/42 HTTP/1.1\r\nHost: warden\r\nAuthorization: Bearer \(HTTPHarness.adminToken)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
            let connection = try await RawConnection.open(port: port, sending: head, thenDripping: body, every: .milliseconds(50))
            #expect(await connection.waitForClose(), "the server never closed the connection")
            #expect(connection.dripped >= 5 && connection.dripped < body.utf8.count)
            #expect(connection.received.isEmpty)
        }
        #expect(try await harness.store.user(id: 42)?.user.groups == ["Fleet Commanders"], "the cut-off request changed nothing")
    }

    @Test func aConnectionLeftIdleAfterAnAnswerIsClosed() async throws {
        var harness = try HTTPHarness()
        harness.idleTimeout = .milliseconds(400)
        let timeout = harness.idleTimeout
        try await harness.live { port in
            let sent = ContinuousClock.now
            let connection = try await RawConnection.open(port: port, sending: Self.healthz)
            let answer = await connection.waitForResponse(endingWith: "ok\n")
            #expect(answer.hasPrefix("HTTP/1.1 200"))
            #expect(await connection.waitForClose(), "an idle keep-alive connection stayed open")
            #expect(sent.duration(to: .now) >= timeout, "not before the timeout")
        }
        #expect(Self.closed(harness, "idle_timeout") == 1)
    }

    @Test func aConnectionThatSendsNothingIsClosed() async throws {
        var harness = try HTTPHarness()
        harness.idleTimeout = .milliseconds(300)
        try await harness.live { port in
            let connection = try await RawConnection.open(port: port)
            #expect(await connection.waitForClose(), "a silent connection stayed open")
        }
    }

    @Test func slowConnectionsFillingTheLimitDoNotLockOutHealthz() async throws {
        var harness = try HTTPHarness()
        harness.maxConnections = 3
        harness.idleTimeout = .seconds(60)
        try await harness.live { port in
            // Three connections that each got an answer (so the server surely holds them) and then began a
            // request they never finish.
            var slow: [RawConnection] = []
            for _ in 0..<3 {
                let connection = try await RawConnection.open(port: port)
                try await connection.send(Self.healthz)
                #expect(await connection.waitForResponse(endingWith: "ok\n").hasPrefix("HTTP/1.1 200"))
                try await connection.send("GET /heal")
                slow.append(connection)
            }
            let health = try await RawConnection.open(port: port)
            try await health.send(Self.healthz)
            #expect(await health.waitForResponse(endingWith: "ok\n").hasPrefix("HTTP/1.1 200"), "healthz answered over the slow connections")
            #expect(await slow[0].waitForClose(), "the longest-waiting connection made room")
            #expect(!slow[1].isClosed && !slow[2].isClosed)
            for connection in slow + [health] { await connection.close() }
        }
        #expect(Self.closed(harness, "evicted") == 1)
    }

    @Test func overTheLimitWithEveryConnectionBusyANewConnectionIsRefusedWith503() async throws {
        let gate = Gate()
        var harness = try HTTPHarness()
        harness.maxConnections = 2
        harness.pause = { _ in await gate.pass() }
        try await harness.live { port in
            // Two requests held in the server (failed logins waiting out their delay): both connections busy.
            var busy: [RawConnection] = []
            for _ in 0..<2 {
                let connection = try await RawConnection.open(port: port)
                try await connection.send("GET /api/status HTTP/1.1\r\nHost: warden\r\nAuthorization: Bearer not-the-token\r\n\r\n")
                busy.append(connection)
            }
            await gate.waitUntilHeld(2)

            let refused = try await RawConnection.open(port: port)
            #expect(await refused.waitForClose(), "the connection over the limit was not closed")
            #expect(refused.received.hasPrefix("HTTP/1.1 503"), "\(refused.received)")
            #expect(busy.allSatisfy { !$0.isClosed }, "a connection busy with a request is never closed for room")

            gate.open()
            for connection in busy {
                #expect(await connection.waitForResponse(endingWith: "}").hasPrefix("HTTP/1.1 401"))
            }
            // Answered, they are idle again: a new connection takes the place of one of them.
            let health = try await RawConnection.open(port: port)
            try await health.send(Self.healthz)
            #expect(await health.waitForResponse(endingWith: "ok\n").hasPrefix("HTTP/1.1 200"))
            for connection in busy + [health] { await connection.close() }
        }
        #expect(Self.closed(harness, "refused") == 1)
    }
}

/// The deadline's rules, with instants given.
@Suite struct RequestDeadlineTests {
    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
    static func at(_ milliseconds: Int64) -> NIODeadline { t0 + .milliseconds(milliseconds) }

    @Test func idleThenReceivingThenBusyThenIdle() {
        var deadline = RequestDeadline(timeout: .milliseconds(100), openedAt: Self.t0)
        #expect(deadline.deadline == Self.at(100), "idle from the start")
        deadline.bytesReceived(at: Self.at(60))
        #expect(deadline.deadline == Self.at(160), "the first byte starts the request's own time")
        deadline.bytesReceived(at: Self.at(150))
        deadline.requestHeadReceived(at: Self.at(155))
        #expect(deadline.deadline == Self.at(160), "more bytes and the head do not move it")
        deadline.requestEndReceived(at: Self.at(158))
        #expect(deadline.isBusy && deadline.deadline == nil && deadline.waitingSince == nil, "no deadline while answering")
        deadline.bytesReceived(at: Self.at(500))
        #expect(deadline.deadline == nil, "a pipelined request waits for the answer")
        deadline.responseEnded(at: Self.at(900))
        #expect(deadline.deadline == Self.at(1000), "idle again from the end of the answer")
    }

    @Test func anEarlyAnswerLeavesTheRestOfTheRequestTimedFromItsFirstByte() {
        var deadline = RequestDeadline(timeout: .milliseconds(100), openedAt: Self.t0)
        deadline.bytesReceived(at: Self.at(10))
        deadline.requestHeadReceived(at: Self.at(20))
        deadline.responseEnded(at: Self.at(30))   // a 401 before the body arrived
        #expect(deadline.deadline == Self.at(110))
        deadline.requestEndReceived(at: Self.at(50))
        #expect(!deadline.isBusy && deadline.deadline == Self.at(150))
    }

    @Test func aPipelinedHeadDecodedDuringTheAnswerIsTimedFromTheAnswersEnd() {
        var deadline = RequestDeadline(timeout: .milliseconds(100), openedAt: Self.t0)
        deadline.requestHeadReceived(at: Self.at(1))
        deadline.requestEndReceived(at: Self.at(2))
        deadline.requestHeadReceived(at: Self.at(3))
        deadline.responseEnded(at: Self.at(40))
        #expect(deadline.receivingSince == Self.at(40) && deadline.deadline == Self.at(140))
    }
}
