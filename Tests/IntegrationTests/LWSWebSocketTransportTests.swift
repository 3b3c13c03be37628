import DiscordGateway
import Foundation
import HummingbirdTLS
import HummingbirdWebSocket
import NIOCore
import NIOWebSocket
import Testing

/// The libwebsockets transport against a hummingbird-websocket server on 127.0.0.1.
@Suite struct LWSWebSocketTransportTests {
    let transport = LWSWebSocketTransport(connectTimeout: .seconds(5), handshakeTimeout: .seconds(5))

    @Test func textRoundTripsAndBinaryArrivesFlaggedBinary() async throws {
        try await withServer(script: { peer in
            // Like Discord's Hello: sent as soon as the connection opens, possibly before connect returns.
            try await peer.outbound.write(.text(#"{"op":10,"d":{"heartbeat_interval":41250}}"#))
            for try await message in peer.messages() {
                guard case .text(let text) = message else { continue }
                try await peer.outbound.write(.text(text))
                try await peer.outbound.write(.binary(ByteBuffer(string: text)))
            }
        }) { server in
            let connection = try await transport.connect(to: "ws://127.0.0.1:\(server.port)/?v=10&encoding=json")
            var events = connection.events.makeAsyncIterator()
            #expect(await events.next() == .message(Array(#"{"op":10,"d":{"heartbeat_interval":41250}}"#.utf8), binary: false))
            connection.send(text: Array(#"{"op":1,"d":null}"#.utf8))
            #expect(await events.next() == .message(Array(#"{"op":1,"d":null}"#.utf8), binary: false))
            #expect(await events.next() == .message(Array(#"{"op":1,"d":null}"#.utf8), binary: true))
            connection.close(code: 1000)
            #expect(await events.next() == .closed(code: 1000, reason: "closed by this client"))
            #expect(await events.next() == nil)
        }
    }

    @Test func largeMessagesArriveReassembledIntact() async throws {
        let big = Self.pattern(count: 2 * 1024 * 1024, seed: 7)
        let chunk = Array(String(repeating: #"{"user":{"id":"80351110224678912"},"roles":[]},"#, count: 12_000).utf8)
        try await withServer(script: { peer in
            for try await _ in peer.messages() {
                // One 2 MB frame, which lws hands over in many receive callbacks.
                try await peer.outbound.write(.binary(ByteBuffer(bytes: big)))
                // The same bytes as one message in 50 000-byte fragments.
                try await peer.outbound.withBinaryMessageWriter { write in
                    for start in stride(from: 0, to: big.count, by: 50_000) {
                        try await write(ByteBuffer(bytes: big[start..<min(start + 50_000, big.count)]))
                    }
                }
                // A member-chunk-sized text message in 16 KiB fragments.
                try await peer.outbound.withTextMessageWriter { write in
                    for start in stride(from: 0, to: chunk.count, by: 16_384) {
                        try await write(ByteBuffer(bytes: chunk[start..<min(start + 16_384, chunk.count)]))
                    }
                }
            }
        }) { server in
            let connection = try await transport.connect(to: "ws://127.0.0.1:\(server.port)/")
            var events = connection.events.makeAsyncIterator()
            connection.send(text: Array("go".utf8))
            #expect(await events.next() == .message(big, binary: true))
            #expect(await events.next() == .message(big, binary: true))
            #expect(await events.next() == .message(chunk, binary: false))
            connection.close(code: 1000)
            _ = await events.next()
        }
    }

    @Test func messageOverTheLimitClosesWith1009() async throws {
        try await withServer(script: { peer in
            try await peer.outbound.write(.binary(ByteBuffer(bytes: [UInt8](repeating: 1, count: 1000))))
            try await peer.outbound.write(.binary(ByteBuffer(bytes: [UInt8](repeating: 2, count: 1001))))
            for try await _ in peer.messages() {}
        }) { server in
            let strict = LWSWebSocketTransport(connectTimeout: .seconds(5), handshakeTimeout: .seconds(5), maxMessageBytes: 1000)
            let connection = try await strict.connect(to: "ws://127.0.0.1:\(server.port)/")
            var events = connection.events.makeAsyncIterator()
            #expect(await events.next() == .message([UInt8](repeating: 1, count: 1000), binary: true))
            #expect(await events.next() == .closed(code: nil, reason: "message larger than 1000 bytes"))
            var codes = server.clientCloseCodes.makeAsyncIterator()
            #expect(await codes.next() == 1009)
        }
    }

    @Test func sendsFromConcurrentTasksArriveInOrderPerTask() async throws {
        let tasks = 8
        let perTask = 100
        try await withServer(script: { peer in
            for try await message in peer.messages() {
                guard case .text(let text) = message else { continue }
                try await peer.outbound.write(.text(text))
            }
        }) { server in
            let connection = try await transport.connect(to: "ws://127.0.0.1:\(server.port)/")
            await withTaskGroup(of: Void.self) { group in
                for task in 0..<tasks {
                    group.addTask {
                        for sequence in 0..<perTask {
                            connection.send(text: Array("\(task):\(sequence)".utf8))
                            if sequence % 10 == 0 { await Task.yield() }
                        }
                    }
                }
            }
            var received: [Int: [Int]] = [:]
            var events = connection.events.makeAsyncIterator()
            for _ in 0..<(tasks * perTask) {
                guard case .message(let bytes, binary: false) = await events.next() else {
                    Issue.record("the connection ended before all echoes arrived")
                    return
                }
                let parts = String(decoding: bytes, as: UTF8.self).split(separator: ":").compactMap { Int($0) }
                try #require(parts.count == 2)
                received[parts[0], default: []].append(parts[1])
            }
            for task in 0..<tasks {
                #expect(received[task] == Array(0..<perTask), "task \(task)")
            }
            connection.close(code: 1000)
            _ = await events.next()
        }
    }

    @Test func serverCloseCodeIsDelivered() async throws {
        try await withServer(script: { peer in
            try await peer.outbound.close(.init(codeNumber: 4004), reason: "Authentication failed.")
            for try await _ in peer.messages() {}
        }) { server in
            let connection = try await transport.connect(to: "ws://127.0.0.1:\(server.port)/")
            var events = connection.events.makeAsyncIterator()
            #expect(await events.next() == .closed(code: 4004, reason: "Authentication failed."))
            #expect(await events.next() == nil)
        }
    }

    @Test func clientCloseCodeReachesTheServer() async throws {
        try await withServer(script: { peer in
            for try await _ in peer.messages() {}
        }) { server in
            let connection = try await transport.connect(to: "ws://127.0.0.1:\(server.port)/")
            var events = connection.events.makeAsyncIterator()
            connection.close(code: 4000)
            var codes = server.clientCloseCodes.makeAsyncIterator()
            #expect(await codes.next() == 4000)
            #expect(await events.next() == .closed(code: 4000, reason: "closed by this client"))
            #expect(await events.next() == nil)
        }
    }

    @Test func closeCodeReservedForLocalUseGoesOutAs1000() async throws {
        try await withServer(script: { peer in
            for try await _ in peer.messages() {}
        }) { server in
            let connection = try await transport.connect(to: "ws://127.0.0.1:\(server.port)/")
            connection.close(code: 1006)
            var codes = server.clientCloseCodes.makeAsyncIterator()
            #expect(await codes.next() == 1000)
        }
    }

    @Test func droppedTCPConnectionEndsWithoutCloseCode() async throws {
        try await withServer(script: { peer in
            await peer.dropConnection()
        }) { server in
            let connection = try await transport.connect(to: "ws://127.0.0.1:\(server.port)/")
            var events = connection.events.makeAsyncIterator()
            guard case .closed(let code, _) = await events.next() else {
                Issue.record("expected .closed")
                return
            }
            #expect(code == nil)
            #expect(await events.next() == nil)
        }
    }

    @Test func sendAfterTheEndIsIgnored() async throws {
        try await withServer(script: { peer in
            await peer.dropConnection()
        }) { server in
            let connection = try await transport.connect(to: "ws://127.0.0.1:\(server.port)/")
            var events = connection.events.makeAsyncIterator()
            _ = await events.next()
            connection.send(text: Array("late".utf8))
            connection.close(code: 4000)
            #expect(await events.next() == nil)
        }
    }

    @Test func cancelledEventsConsumerTearsTheConnectionDown() async throws {
        let (serverSawEnd, serverSawEndSink) = AsyncStream.makeStream(of: Void.self)
        try await withServer(script: { peer in
            defer { serverSawEndSink.yield() }
            for try await message in peer.messages() {
                guard case .text(let text) = message else { continue }
                try await peer.outbound.write(.text(text))
            }
        }) { server in
            let connection = try await transport.connect(to: "ws://127.0.0.1:\(server.port)/")
            connection.send(text: Array("ping".utf8))
            let consumer = Task {
                for await event in connection.events {
                    if case .message = event { continue }
                }
            }
            consumer.cancel()
            await consumer.value
            var ends = serverSawEnd.makeAsyncIterator()
            #expect(await ends.next() != nil)
        }
    }

    @Test func refusedPortThrows() async throws {
        let socket = try LWSTestSilentSocket.refusing()
        try await withLWSTestDeadline {
            await #expect(throws: WebSocketConnectError.self) {
                _ = try await transport.connect(to: "ws://127.0.0.1:\(socket.port)/")
            }
        }
        withExtendedLifetime(socket) {}
    }

    @Test func unansweredHandshakeThrowsAfterTheTimeout() async throws {
        let socket = try LWSTestSilentSocket.mute()
        let impatient = LWSWebSocketTransport(connectTimeout: .seconds(1), handshakeTimeout: .seconds(1))
        try await withLWSTestDeadline {
            await #expect(throws: WebSocketConnectError.self) {
                _ = try await impatient.connect(to: "ws://127.0.0.1:\(socket.port)/")
            }
        }
        withExtendedLifetime(socket) {}
    }

    @Test func cancellingConnectDuringTheHandshakeStopsItAndHangsUp() async throws {
        let socket = try LWSTestSilentSocket.mute()
        let (requests, hangUps) = socket.watchOneClient()
        let patient = LWSWebSocketTransport(handshakeTimeout: .seconds(300))
        try await withLWSTestDeadline {
            let attempt = Task { try await patient.connect(to: "ws://127.0.0.1:\(socket.port)/") }
            var requestsIterator = requests.makeAsyncIterator()
            #expect(await requestsIterator.next() != nil, "the upgrade request should arrive")
            attempt.cancel()
            await #expect(throws: CancellationError.self) { _ = try await attempt.value }
            var hangUpsIterator = hangUps.makeAsyncIterator()
            #expect(await hangUpsIterator.next() != nil, "the client should close its socket")
        }
        withExtendedLifetime(socket) {}
    }

    @Test(arguments: ["http://127.0.0.1:1/", "ftp://127.0.0.1/", "127.0.0.1:80", "ws://", "wss://user:pw@host/"])
    func badURLsThrowWithoutConnecting(url: String) async {
        await #expect(throws: WebSocketConnectError.self) { _ = try await transport.connect(to: url) }
    }

    @Test func tlsWithOurCAConnectsAndWithoutItIsRefused() async throws {
        let authority = try LWSTestCertificateAuthority.make()
        defer { authority.remove() }
        let tls = try Self.serverTLS(certificate: authority.serverCertificateFile, key: authority.serverKeyFile)
        try await withServer(tls: tls, script: { peer in
            for try await message in peer.messages() {
                guard case .text(let text) = message else { continue }
                try await peer.outbound.write(.text(text))
            }
        }) { server in
            let trusting = LWSWebSocketTransport(
                caFile: authority.caFile, connectTimeout: .seconds(5), handshakeTimeout: .seconds(5))
            let connection = try await trusting.connect(to: "wss://localhost:\(server.port)/?v=10")
            var events = connection.events.makeAsyncIterator()
            connection.send(text: Array("over tls".utf8))
            #expect(await events.next() == .message(Array("over tls".utf8), binary: false))
            connection.close(code: 1000)
            #expect(await events.next() == .closed(code: 1000, reason: "closed by this client"))

            // Peer verification: the system store alone does not know our CA.
            await #expect(throws: WebSocketConnectError.self) {
                _ = try await transport.connect(to: "wss://localhost:\(server.port)/")
            }
            // The certificate names localhost, not the address 127.0.0.1.
            await #expect(throws: WebSocketConnectError.self) {
                _ = try await trusting.connect(to: "wss://127.0.0.1:\(server.port)/")
            }
        }
    }

    @Test func tlsCertificateForAnotherHostNameIsRefused() async throws {
        let authority = try LWSTestCertificateAuthority.make()
        defer { authority.remove() }
        let elsewhere = try authority.issue(dnsName: "gateway.elsewhere.invalid", as: "elsewhere")
        let tls = try Self.serverTLS(certificate: elsewhere.certificate, key: elsewhere.key)
        try await withServer(tls: tls, script: { peer in
            for try await _ in peer.messages() {}
        }) { server in
            let trusting = LWSWebSocketTransport(
                caFile: authority.caFile, connectTimeout: .seconds(5), handshakeTimeout: .seconds(5))
            await #expect(throws: WebSocketConnectError.self) {
                _ = try await trusting.connect(to: "wss://localhost:\(server.port)/")
            }
        }
    }

    @Test func unreadableCAFileIsAnError() async {
        let transport = LWSWebSocketTransport(caFile: "/nonexistent/warden-ca.pem")
        await #expect(throws: WebSocketConnectError.self) {
            _ = try await transport.connect(to: "wss://localhost:1/")
        }
    }

    // MARK: Helpers

    /// Runs `body` against a fresh server, stopping the server afterwards, under a hang guard.
    private func withServer(
        tls: TLSConfiguration? = nil,
        script: @escaping @Sendable (LWSTestPeer) async throws -> Void,
        _ body: @escaping @Sendable (LWSTestWebSocketServer) async throws -> Void
    ) async throws {
        let server = try await LWSTestWebSocketServer.start(tls: tls, script: script)
        do {
            try await withLWSTestDeadline { try await body(server) }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    private static func serverTLS(certificate: String, key: String) throws -> TLSConfiguration {
        TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        )
    }

    /// Bytes that differ from position to position, so a lost, doubled or misplaced piece shows.
    private static func pattern(count: Int, seed: UInt32) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
    }
}
