import DiscordModels
import DiscordREST
import Foundation
import Testing

/// The libcurl transport against a loopback Hummingbird server: what goes on the wire and what comes back.
@Suite struct CurlHTTPTransportTests {
    @Test func everyMethodGoesOutAsItselfWithItsHeadersAndBody() async throws {
        try await LoopbackHTTPServer.with { server in
            let transport = try CurlHTTPTransport()
            let json = Array(#"{"roles":["1"]}"#.utf8)
            for method in [HTTPMethod.get, .put, .patch, .post, .delete] {
                let body: [UInt8]? = method == .patch || method == .post ? json : nil
                var headers: HTTPHeaders = ["X-Audit-Log-Reason": "sync%20roles", "User-Agent": "DiscordBot (https://example, 1)"]
                if body != nil { headers.add(name: "Content-Type", value: "application/json") }
                let response = try await transport.send(HTTPRequest(method: method, url: server.url("/echo/\(method)?a=1"),
                                                                    headers: headers, body: body))
                #expect(response.status == 200)
            }
            let received = server.received
            #expect(received.map(\.method) == ["GET", "PUT", "PATCH", "POST", "DELETE"])
            #expect(received.map(\.path) == ["/echo/GET", "/echo/PUT", "/echo/PATCH", "/echo/POST", "/echo/DELETE"])
            #expect(received.allSatisfy { $0.query == "a=1" })
            #expect(received.allSatisfy { $0.header("X-Audit-Log-Reason") == "sync%20roles" })
            #expect(received.allSatisfy { $0.header("User-Agent") == "DiscordBot (https://example, 1)" })
            #expect(received.allSatisfy { $0.header("Expect") == nil })
            // Body-less PUT carries Content-Length: 0 and no form content type.
            let put = received[1]
            #expect(put.header("Content-Length") == "0")
            #expect(put.header("Content-Type") == nil)
            #expect(put.body.isEmpty)
            // Bodies arrive whole, with their length and type.
            for sent in [received[2], received[3]] {
                #expect(sent.body == json)
                #expect(sent.header("Content-Length") == "\(json.count)")
                #expect(sent.header("Content-Type") == "application/json")
            }
            #expect(received[0].header("Content-Length") == nil)

            // Body-less POST and PATCH carry Content-Length: 0 as well.
            for method in [HTTPMethod.post, .patch] {
                _ = try await transport.send(HTTPRequest(method: method, url: server.url("/empty/\(method)")))
            }
            let empties = server.received.suffix(2)
            #expect(empties.map(\.method) == ["POST", "PATCH"])
            #expect(empties.allSatisfy { $0.header("Content-Length") == "0" && $0.header("Expect") == nil && $0.body.isEmpty })
        }
    }

    @Test func responseHeadersAndBodyAreCapturedAndA429IsAResponse() async throws {
        try await LoopbackHTTPServer.with { server in
            let transport = try CurlHTTPTransport()
            let ok = try await transport.send(HTTPRequest(method: .get, url: server.url("/echo")))
            #expect(ok.headers["x-ratelimit-bucket"] == "abcd1234")
            #expect(ok.headers["X-RateLimit-Remaining"] == "4")
            #expect(ok.headers["X-RATELIMIT-RESET-AFTER"] == "9.5")
            #expect(ok.body == Array(#"{"ok":true}"#.utf8))

            let limited = try await transport.send(HTTPRequest(method: .put, url: server.url("/rate-limited")))
            #expect(limited.status == 429)
            #expect(limited.headers["Retry-After"] == "3")
            #expect(limited.headers["X-RateLimit-Scope"] == "user")
            #expect(String(decoding: limited.body, as: UTF8.self).contains("\"retry_after\":2.5"))

            let empty = try await transport.send(HTTPRequest(method: .delete, url: server.url("/no-content")))
            #expect(empty.status == 204)
            #expect(empty.body.isEmpty)
        }
    }

    @Test func theConnectionIsReused() async throws {
        try await LoopbackHTTPServer.with { server in
            let transport = try CurlHTTPTransport()
            _ = try await transport.send(HTTPRequest(method: .get, url: server.url("/echo")))
            #expect(transport.connectionsOpened == 1)
            for _ in 0..<3 { _ = try await transport.send(HTTPRequest(method: .put, url: server.url("/echo"))) }
            #expect(transport.connectionsOpened == 1)
        }
    }

    @Test func concurrentRequestsAllComplete() async throws {
        try await LoopbackHTTPServer.with { server in
            let transport = try CurlHTTPTransport()
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<8 {
                    group.addTask { try await transport.send(HTTPRequest(method: .get, url: server.url("/echo/\(i)"))).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 8))
            #expect(Set(server.received.map(\.path)).count == 8)
        }
    }

    @Test func theTotalTimeoutEndsARequestWithTimeout() async throws {
        try await LoopbackHTTPServer.with { server in
            let transport = try CurlHTTPTransport()
            // `/slow` answers only when the server stops: the timeout is what ends the request.
            await #expect(throws: HTTPTransportError.timeout) {
                try await transport.send(HTTPRequest(method: .get, url: server.url("/slow"), timeout: .milliseconds(300)))
            }
        }
    }

    @Test func cancellingTheTaskThrowsCancellationError() async throws {
        try await LoopbackHTTPServer.with { server in
            let transport = try CurlHTTPTransport()
            let request = Task { try await transport.send(HTTPRequest(method: .get, url: server.url("/slow"))) }
            #expect(await server.waitForRequests(1))
            // `/slow` answers only when the server stops: the cancellation is what ends the request.
            request.cancel()
            await #expect(throws: CancellationError.self) { try await request.value }
            // The transport still works afterwards.
            #expect(try await transport.send(HTTPRequest(method: .get, url: server.url("/echo"))).status == 200)
        }
    }

    @Test func httpsToAPlainHTTPPortFailsAndOtherSchemesAreRefused() async throws {
        try await LoopbackHTTPServer.with { server in
            let transport = try CurlHTTPTransport()
            let tls = await #expect(throws: HTTPTransportError.self) {
                try await transport.send(HTTPRequest(method: .get, url: server.url("/echo", scheme: "https"), timeout: .seconds(60)))
            }
            guard case .network? = tls else { Issue.record("expected a network error, got \(String(describing: tls))"); return }
            for url in ["ftp://127.0.0.1:\(server.port)/echo", "file:///etc/passwd", "gopher://127.0.0.1/", "127.0.0.1/echo"] {
                let refused = await #expect(throws: HTTPTransportError.self) {
                    try await transport.send(HTTPRequest(method: .get, url: url))
                }
                guard case .network? = refused else { Issue.record("expected refusal of \(url)"); continue }
            }
            #expect(server.received.isEmpty)
        }
    }

    @Test func aRefusedConnectionIsANetworkError() async throws {
        // Find a free port by starting and stopping a server.
        let port = try await LoopbackHTTPServer.with { $0.port }
        let transport = try CurlHTTPTransport()
        let error = await #expect(throws: HTTPTransportError.self) {
            try await transport.send(HTTPRequest(method: .get, url: "http://127.0.0.1:\(port)/echo"))
        }
        guard case .network? = error else { Issue.record("expected a network error, got \(String(describing: error))"); return }
    }

    @Test func headerInjectionIsRefused() async throws {
        try await LoopbackHTTPServer.with { server in
            let transport = try CurlHTTPTransport()
            await #expect(throws: HTTPTransportError.self) {
                try await transport.send(HTTPRequest(method: .get, url: server.url("/echo"),
                                                     headers: ["X-Audit-Log-Reason": "a\r\nX-Evil: 1"]))
            }
            #expect(server.received.isEmpty)
        }
    }

    @Test func aShutDownTransportFailsRequestsWithCancelled() async throws {
        let transport = try CurlHTTPTransport()
        transport.shutdown()
        await #expect(throws: HTTPTransportError.cancelled) {
            try await transport.send(HTTPRequest(method: .get, url: "http://127.0.0.1:9/"))
        }
    }

    @Test func theClientSpeaksDiscordsConventionsOverCurl() async throws {
        try await LoopbackHTTPServer.with { server in
            let configuration = DiscordRESTConfiguration(botToken: Secret("bot.token.value"),
                                                         apiBaseURL: server.url("/api/v10"), version: "9.9.9")
            let rest = DiscordRESTClient(configuration: configuration, transport: try CurlHTTPTransport())
            try await rest.addGuildMemberRole(81_384_788_765_712_384, user: 80_351_110_224_678_912, role: 41_771_983_423_143_936,
                                              reason: "Auth group: FC")
            let put = try #require(server.received.first)
            #expect(put.method == "PUT")
            #expect(put.path == "/api/v10/guilds/81384788765712384/members/80351110224678912/roles/41771983423143936")
            #expect(put.header("Authorization") == "Bot bot.token.value")
            #expect(put.header("User-Agent") == "DiscordBot (https://github.com/warden-bot/warden, 9.9.9)")
            #expect(put.header("X-Audit-Log-Reason") == "Auth%20group%3A%20FC")
            #expect(put.header("Content-Length") == "0")
            #expect(put.header("Expect") == nil)
        }
    }
}

/// TLS: peer verification is always on; `caFile` adds a CA without dropping the system store.
@Suite struct CurlHTTPTransportTLSTests {
    @Test func aServerSignedByAnUnknownCAIsRefusedAndTrustedWithCAFile() async throws {
        let authority = try LoopbackCertificateAuthority.make()
        defer { authority.remove() }
        try await LoopbackHTTPServer.with(tls: try authority.serverTLS()) { server in
            let url = server.url("/echo", scheme: "https")
            let untrusting = try CurlHTTPTransport()
            let refused = await #expect(throws: HTTPTransportError.self) {
                try await untrusting.send(HTTPRequest(method: .get, url: url, timeout: .seconds(60)))
            }
            guard case .network? = refused else { Issue.record("expected a verification failure, got \(String(describing: refused))"); return }
            #expect(server.received.isEmpty)

            let trusting = try CurlHTTPTransport(configuration: .init(caFile: authority.caFile))
            let response = try await trusting.send(HTTPRequest(method: .get, url: url, timeout: .seconds(60)))
            #expect(response.status == 200)
            #expect(response.headers["X-RateLimit-Bucket"] == "abcd1234")
        }
    }

    @Test func withCAFileSetTheSystemStoreDirectoryIsStillTrusted() async throws {
        // The server's CA sits only in the "system" directory; caFile names another, unrelated CA.
        let serverAuthority = try LoopbackCertificateAuthority.make()
        let otherAuthority = try LoopbackCertificateAuthority.make(name: "Unrelated CA")
        defer { serverAuthority.remove(); otherAuthority.remove() }
        try await LoopbackHTTPServer.with(tls: try serverAuthority.serverTLS()) { server in
            let transport = try CurlHTTPTransport(configuration: .init(
                caFile: otherAuthority.caFile, systemCADirectory: try serverAuthority.hashedDirectory()))
            let response = try await transport.send(HTTPRequest(method: .get, url: server.url("/echo", scheme: "https"),
                                                                timeout: .seconds(60)))
            #expect(response.status == 200)
        }
    }
}
