@testable import DiscordGateway
import DiscordFake
import DiscordModels
import Testing

/// The client end to end over a scripted transport, with a `ManualClock` driving every timer. Before a
/// test moves the clock to fire a timer it waits until the client is sleeping on it (`waitForSleep`), so the
/// advance, not a late start, wakes the timer, and "not yet" checks are made against a timer really armed.
@Suite struct GatewayClientTests {
    let clock = ManualClock()
    let transport = FakeTransport()

    func makeClient(interval: Int = 41250, fetch: (@Sendable () async throws -> GatewayBot)? = nil,
                    configuration: GatewaySessionConfiguration = Fixtures.configuration()) -> (GatewayClient, EventLog) {
        let client = GatewayClient(configuration: configuration, identifyBudget: Fixtures.budget, transport: transport,
                                   clock: clock, random: FixedRandom(0.5), fetchGatewayBot: fetch)
        return (client, EventLog(client.events))
    }

    /// Starts the client and plays Hello → (Identify) → READY on the first connection.
    func connectReady(_ client: GatewayClient, interval: Int = 41250) async throws -> FakeConnection {
        await client.start()
        let connection = try #require(await transport.attempts.next()?.connection)
        connection.serverSends(Fixtures.helloJSON(interval: interval))
        let identify = try #require(await connection.nextSent())
        #expect(identify.op == 2)
        connection.serverSends(Fixtures.readyJSON(sequence: 1))
        let request = try #require(await connection.nextSent())
        #expect(request.op == 8)
        return connection
    }

    @Test func helloIdentifyReadyThenTheMemberRequest() async throws {
        let bot = GatewayBot(url: "wss://fetched.test", sessionStartLimit: .init(total: 1000, remaining: 999, resetAfter: 5000, maxConcurrency: 1))
        let (client, events) = makeClient(fetch: { bot }, configuration: Fixtures.configuration(canFetch: true, gatewayURL: nil))
        await client.start()
        let attempt = try #require(await transport.attempts.next())
        #expect(attempt.url == "wss://fetched.test" + Fixtures.query)
        let connection = try #require(attempt.connection)
        connection.serverSends(Fixtures.helloJSON())
        let identify = try #require(await connection.nextSent())
        #expect(identify.op == 2)
        #expect(identify["token"] == .string(Fixtures.token.revealed))
        #expect(identify["intents"]?.intValue == 3)
        connection.serverSends(Fixtures.readyJSON(sequence: 1))
        let request = try #require(await connection.nextSent())
        #expect(request.op == 8)
        #expect(request["query"] == .string(""))
        #expect(request["limit"]?.intValue == 0)
        #expect(request["guild_id"] == .string(String(Fixtures.guildID.rawValue)))
        #expect(await events.wait(for: .sessionStarted(.freshIdentify)))
        let ready = await events.next { if case .dispatch(.ready, _) = $0 { true } else { false } }
        #expect(ready == .dispatch(.ready(Fixtures.ready(applicationID: 1)), sequence: 1))
        let status = await client.status
        #expect(status.state == .connected)
        #expect(status.sessionStart == .freshIdentify)
        #expect(status.memberRequestNonce == request["nonce"]?.stringValue)
        // Chunks of the request come through as dispatches.
        let nonce = try #require(status.memberRequestNonce)
        connection.serverSends(Fixtures.chunkJSON(sequence: 2, nonce: nonce, index: 0, count: 1, members: 3))
        let chunk = await events.next { if case .dispatch(.guildMembersChunk, _) = $0 { true } else { false } }
        guard case .dispatch(.guildMembersChunk(let decoded), let seq) = chunk else { Issue.record("no chunk"); return }
        #expect(decoded.members.count == 3)
        #expect(decoded.nonce == nonce)
        #expect(seq == 2)
        await client.stop()
    }

    @Test func heartbeatsGoOutOnScheduleWithTheLastSequence() async throws {
        let (client, events) = makeClient()
        let connection = try await connectReady(client)
        connection.serverSends(Fixtures.roleDeleteJSON(sequence: 2))
        #expect(await events.wait(forSequence: 2))
        // First beat at 41.25 s × 0.5 = 20.625 s after Hello.
        #expect(await clock.waitForSleep(within: .milliseconds(20_625)))
        clock.advance(by: .milliseconds(20_624))
        #expect(connection.sent.all.count == 2)
        clock.advance(by: .milliseconds(1))
        let first = try #require(await connection.nextSent())
        #expect(first == (try SentPayload(Array(#"{"op":1,"d":2}"#.utf8))))
        connection.serverSends(Fixtures.ackJSON)
        connection.serverSends(Fixtures.roleDeleteJSON(sequence: 3))
        #expect(await events.wait(forSequence: 3))
        #expect(await clock.waitForSleep(within: .milliseconds(41_250)))
        clock.advance(by: .milliseconds(41_250))
        let second = try #require(await connection.nextSent())
        #expect(second.op == 1)
        #expect(second.d?.intValue == 3)
        // The gateway asks for a beat: answered at once.
        connection.serverSends(#"{"op":1,"d":null}"#)
        #expect(try #require(await connection.nextSent()).op == 1)
        await client.stop()
    }

    @Test func aZombieConnectionIsClosedWith4000AndResumedOnTheResumeURL() async throws {
        let (client, events) = makeClient()
        let connection = try await connectReady(client)
        connection.serverSends(Fixtures.roleDeleteJSON(sequence: 2))
        #expect(await events.wait(forSequence: 2))
        #expect(await clock.waitForSleep(within: .milliseconds(20_625)))
        clock.advance(by: .milliseconds(20_625))
        #expect(try #require(await connection.nextSent()).op == 1)
        // No ACK: at the next beat the connection is a zombie.
        #expect(await clock.waitForSleep(within: .milliseconds(41_250)))
        clock.advance(by: .milliseconds(41_250))
        #expect(await connection.closes.next() == 4000)
        #expect(await events.wait(for: .disconnected(.zombie)))
        let resumeAttempt = try #require(await transport.attempts.next())
        #expect(resumeAttempt.url == Fixtures.resumeBase + Fixtures.query)
        let second = try #require(resumeAttempt.connection)
        second.serverSends(Fixtures.helloJSON())
        let resume = try #require(await second.nextSent())
        #expect(resume.op == 6)
        #expect(resume["seq"]?.intValue == 2)
        #expect(resume["session_id"] == .string("session-1"))
        second.serverSends(Fixtures.roleDeleteJSON(sequence: 3))
        second.serverSends(Fixtures.resumedJSON(sequence: 4))
        #expect(await events.wait(for: .sessionStarted(.resumed)))
        #expect(await client.status.sessionStart == .resumed)
        await client.stop()
    }

    @Test func reconnectOpcodeClosesWith4000AndResumes() async throws {
        let (client, events) = makeClient()
        let connection = try await connectReady(client)
        connection.serverSends(Fixtures.reconnectJSON)
        #expect(await connection.closes.next() == 4000)
        #expect(await events.wait(for: .disconnected(.reconnectRequested)))
        let attempt = try #require(await transport.attempts.next())
        #expect(attempt.url == Fixtures.resumeBase + Fixtures.query)
        attempt.connection?.serverSends(Fixtures.helloJSON())
        #expect(try #require(await attempt.connection?.nextSent()).op == 6)
        await client.stop()
    }

    @Test func invalidSessionResumableResumes() async throws {
        let (client, _) = makeClient()
        let connection = try await connectReady(client, interval: 10_000_000)
        connection.serverSends(Fixtures.invalidSessionJSON(resumable: true))
        #expect(await connection.closes.next() == 4000)
        let attempt = try #require(await transport.attempts.next())
        #expect(attempt.url == Fixtures.resumeBase + Fixtures.query)
        attempt.connection?.serverSends(Fixtures.helloJSON(interval: 10_000_000))
        #expect(try #require(await attempt.connection?.nextSent()).op == 6)
        await client.stop()
    }

    @Test func invalidSessionNotResumableIdentifiesAgainAfterTheDelay() async throws {
        let (client, events) = makeClient()
        let connection = try await connectReady(client, interval: 10_000_000)
        clock.advance(by: .seconds(100))
        connection.serverSends(Fixtures.invalidSessionJSON(resumable: false))
        #expect(await connection.closes.next() == 4000)
        #expect(await events.wait(for: .disconnected(.invalidSession(resumable: false))))
        // FixedRandom(0.5): 1 + 4 × 0.5 = 3 s.
        #expect(await clock.waitForSleep(within: .seconds(3)))
        clock.advance(by: .milliseconds(2_999))
        #expect(transport.attempts.all.count == 1)
        clock.advance(by: .milliseconds(1))
        let attempt = try #require(await transport.attempts.next())
        #expect(attempt.url == Fixtures.gatewayBase + Fixtures.query)
        attempt.connection?.serverSends(Fixtures.helloJSON(interval: 10_000_000))
        #expect(try #require(await attempt.connection?.nextSent()).op == 2)
        attempt.connection?.serverSends(Fixtures.readyJSON(sequence: 1, sessionID: "session-2"))
        #expect(await events.wait(for: .sessionStarted(.freshIdentify)))
        await client.stop()
    }

    @Test func authenticationFailedIsFatalAndNothingReconnects() async throws {
        let (client, events) = makeClient()
        await client.start()
        let connection = try #require(await transport.attempts.next()?.connection)
        connection.serverSends(Fixtures.helloJSON())
        #expect(try #require(await connection.nextSent()).op == 2)
        connection.serverCloses(code: 4004)
        #expect(await events.wait(for: .fatal(.authenticationFailed)))
        #expect(await client.status.state == .fatal)
        clock.advance(by: .seconds(600))
        #expect(transport.attempts.all.count == 1)
        // The stream ended after the fatal event.
        #expect(await events.inbox.next(timeout: .milliseconds(100)) == nil)
        await client.stop()
    }

    @Test func disallowedIntentsIsFatal() async throws {
        let (client, events) = makeClient()
        let connection = try await connectReady(client)
        connection.serverCloses(code: 4014)
        #expect(await events.wait(for: .fatal(.disallowedIntents)))
        #expect(await client.status.fatalReason == .disallowedIntents)
        clock.advance(by: .seconds(600))
        #expect(transport.attempts.all.count == 1)
    }

    @Test func failedConnectsBackOffExponentially() async throws {
        let (client, events) = makeClient()
        transport.failNextConnects(4)
        await client.start()
        #expect(try #require(await transport.attempts.next()).connection == nil)
        // 1 s × 2^(n-1) × 0.75.
        for (index, delay) in [750, 1500, 3000, 6000].enumerated() {
            #expect(await events.wait(for: .disconnected(.connectFailed)))
            #expect(await clock.waitForSleep(within: .milliseconds(delay)))
            clock.advance(by: .milliseconds(delay - 1))
            #expect(transport.attempts.all.count == index + 1)
            clock.advance(by: .milliseconds(1))
            let attempt = try #require(await transport.attempts.next())
            #expect((attempt.connection == nil) == (index < 3))
        }
        await client.stop()
    }

    @Test func identifiesAreAtLeastFifteenSecondsApart() async throws {
        let (client, events) = makeClient()
        await client.start()
        var lastIdentify: ManualClock.Instant?
        for round in 0..<3 {
            if let lastIdentify {
                // The gateway dropped the connection before READY: the backoff alone would reconnect
                // after 0.75 s, but the next identify may only go 15 s after the last one.
                let floor = lastIdentify.advanced(by: .seconds(15))
                #expect(await clock.waitForSleep(within: clock.now.duration(to: floor)), "the backoff")
                clock.advance(to: floor.advanced(by: .milliseconds(-1)))
                #expect(await clock.waitForSleep(within: .milliseconds(1)), "the identify floor")
                #expect(transport.attempts.all.count == round)
                clock.advance(by: .milliseconds(1))
            }
            let connection = try #require(await transport.attempts.next()?.connection)
            connection.serverSends(Fixtures.helloJSON(interval: 10_000_000))
            // Identify follows Hello at once; the clock does not move meanwhile.
            #expect(await connection.nextSent()?.op == 2)
            if let lastIdentify { #expect(lastIdentify.duration(to: clock.now) == .seconds(15)) }
            lastIdentify = clock.now
            connection.serverCloses(code: 4000)
            #expect(await events.wait(for: .disconnected(.closedByGateway(.unknownError))))
        }
        await client.stop()
    }

    @Test func aZlibStreamConnectionWithSplitPayloadsWorks() async throws {
        let (client, events) = makeClient()
        await client.start()
        let connection = try #require(await transport.attempts.next()?.connection)
        #expect(connection.url.hasSuffix("&compress=zlib-stream"))
        let deflater = StreamDeflater()
        let hello = deflater.compress(Fixtures.helloJSON())
        let third = hello.count / 3
        connection.serverSendsBinary(Array(hello[..<third]))
        connection.serverSendsBinary(Array(hello[third..<(2 * third)]))
        connection.serverSendsBinary(Array(hello[(2 * third)...]))
        #expect(try #require(await connection.nextSent()).op == 2)
        connection.serverSendsBinary(deflater.compress(Fixtures.readyJSON(sequence: 1)))
        let request = try #require(await connection.nextSent())
        #expect(request.op == 8)
        let nonce = try #require(request["nonce"]?.stringValue)
        // A 1000-member chunk in two messages.
        let chunk = deflater.compress(Fixtures.chunkJSON(sequence: 2, nonce: nonce, index: 0, count: 1, members: 1000))
        connection.serverSendsBinary(Array(chunk[..<(chunk.count / 2)]))
        connection.serverSendsBinary(Array(chunk[(chunk.count / 2)...]))
        let delivered = await events.next { if case .dispatch(.guildMembersChunk, _) = $0 { true } else { false } }
        guard case .dispatch(.guildMembersChunk(let decoded), _) = delivered else { Issue.record("no chunk"); return }
        #expect(decoded.members.count == 1000)
        await client.stop()
    }

    @Test func aCorruptZlibStreamClosesWith4000AndResumes() async throws {
        let (client, events) = makeClient()
        await client.start()
        let connection = try #require(await transport.attempts.next()?.connection)
        let deflater = StreamDeflater()
        connection.serverSendsBinary(deflater.compress(Fixtures.helloJSON()))
        #expect(try #require(await connection.nextSent()).op == 2)
        connection.serverSendsBinary(deflater.compress(Fixtures.readyJSON(sequence: 1)))
        #expect(try #require(await connection.nextSent()).op == 8)
        connection.serverSendsBinary([0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x00, 0xFF, 0xFF])
        #expect(await connection.closes.next() == 4000)
        #expect(await events.wait(for: .disconnected(.streamCorrupted)))
        let attempt = try #require(await transport.attempts.next())
        #expect(attempt.url == Fixtures.resumeBase + Fixtures.query)
        // The new connection has a fresh inflater.
        let fresh = StreamDeflater()
        attempt.connection?.serverSendsBinary(fresh.compress(Fixtures.helloJSON()))
        #expect(try #require(await attempt.connection?.nextSent()).op == 6)
        await client.stop()
    }

    @Test func aRateLimitedMemberRequestIsRetriedAfterRetryAfter() async throws {
        let (client, events) = makeClient()
        let connection = try await connectReady(client, interval: 10_000_000)
        connection.serverSends(#"{"op":0,"s":2,"t":"RATE_LIMITED","d":{"opcode":8,"retry_after":12.5,"meta":{"guild_id":"\#(Fixtures.guildID)","nonce":"warden-1"}}}"#)
        #expect(await events.wait(forSequence: 2))
        #expect(await clock.waitForSleep(within: .milliseconds(12_500)))
        clock.advance(by: .milliseconds(12_499))
        #expect(connection.sent.all.count == 2)
        clock.advance(by: .milliseconds(1))
        let retry = try #require(await connection.nextSent())
        #expect(retry.op == 8)
        #expect(retry["nonce"] == .string("warden-2"))
        #expect(await client.status.memberRequestNonce == "warden-2")
        await client.stop()
    }

    @Test func anUndecodablePayloadIsReportedAndTheSessionGoesOn() async throws {
        let (client, events) = makeClient()
        let connection = try await connectReady(client)
        connection.serverSends(#"{"op":0,"s":5,"t":"GUILD_ROLE_DELETE","d":{"guild_id":"not-a-snowflake","role_id":"1"}}"#)
        let failure = await events.next { if case .undecodablePayload = $0 { true } else { false } }
        guard case .undecodablePayload(let info) = failure else { Issue.record("not reported"); return }
        #expect(info.sequence == 5)
        #expect(info.eventName == "GUILD_ROLE_DELETE")
        #expect(info.opcode == 0)
        connection.serverSends("this is not json")
        #expect(await events.next { if case .undecodablePayload = $0 { true } else { false } } != nil)
        // Still connected, and the heartbeat carries the sequence of the skipped payload.
        #expect(await clock.waitForSleep(within: .milliseconds(20_625)))
        clock.advance(by: .milliseconds(20_625))
        let beat = try #require(await connection.nextSent())
        #expect(beat.op == 1)
        #expect(beat.d?.intValue == 5)
        #expect(await client.status.state == .connected)
        await client.stop()
    }

    @Test func stopClosesWith1000AndEndsTheStream() async throws {
        let (client, events) = makeClient()
        let connection = try await connectReady(client)
        await client.stop()
        #expect(await connection.closes.next() == 1000)
        #expect(await events.wait(for: .stopped))
        #expect(await events.inbox.next(timeout: .milliseconds(100)) == nil)
        clock.advance(by: .seconds(600))
        #expect(transport.attempts.all.count == 1)
    }
}
