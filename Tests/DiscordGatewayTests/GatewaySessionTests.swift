@testable import DiscordGateway
import DiscordModels
import Testing

/// The pure state machine, input by input, with explicit times.
@Suite struct GatewaySessionTests {
    typealias D = Duration
    static let interval = 40_000  // ms; with FixedRandom(0.5) the first heartbeat is at 20 s

    /// start → open → Hello → Identify → READY (seq 1), all at `at`.
    static func readySession(at t: D = .zero, configuration: GatewaySessionConfiguration = Fixtures.configuration(),
                             budget: IdentifyBudget? = Fixtures.budget) -> (GatewaySession, [GatewayAction]) {
        var s = GatewaySession(configuration: configuration, identifyBudget: budget, random: FixedRandom(0.5))
        var all = s.start(now: t)
        all += s.connectionOpened(now: t)
        all += s.receive(.hello(Hello(heartbeatInterval: interval)), now: t)
        all += s.receive(.dispatch(.ready(Fixtures.ready()), sequence: 1), now: t)
        return (s, all)
    }

    // MARK: Connect, identify, ready

    @Test func startConnectsToTheMainURLWithTheQueryString() {
        var s = GatewaySession(configuration: Fixtures.configuration(), identifyBudget: Fixtures.budget, random: FixedRandom())
        let actions = s.start(now: .zero)
        #expect(actions.connectURLs == [Fixtures.gatewayBase + Fixtures.query])
        #expect(actions.states == [.connecting])
        #expect(s.state == .connecting)
    }

    @Test func helloIdentifiesWithTokenIntentsPresenceAndLargeThreshold() throws {
        var s = GatewaySession(configuration: Fixtures.configuration(), identifyBudget: Fixtures.budget, random: FixedRandom())
        _ = s.start(now: .zero)
        _ = s.connectionOpened(now: .zero)
        let actions = s.receive(.hello(Hello(heartbeatInterval: Self.interval)), now: .seconds(1))
        let identify = try #require(actions.sentPayloads.first)
        #expect(identify.op == 2)
        #expect(identify["token"] == .string(Fixtures.token.revealed))
        #expect(identify["intents"]?.intValue == 3)
        #expect(identify["large_threshold"]?.intValue == 250)
        #expect(identify["presence"]?["status"] == .string("invisible"))
        #expect(identify["properties"]?["os"] == .string("linux"))
        #expect(s.identifyBudget?.remaining == 999)
        #expect(s.lastIdentifyAt == .seconds(1))
        // The first heartbeat is due after interval × random.
        #expect(s.nextDeadline == .seconds(1) + .seconds(20))
    }

    @Test func readyStartsAFreshSessionAndRequestsAllMembers() throws {
        let (s, actions) = Self.readySession()
        #expect(s.state == .connected)
        #expect(s.sessionID == "session-1")
        #expect(s.resumeURL == Fixtures.resumeBase)
        #expect(s.sequence == 1)
        #expect(s.sessionStart == .freshIdentify)
        #expect(actions.contains(.sessionStarted(.freshIdentify)))
        #expect(actions.contains(.deliver(.ready(Fixtures.ready()), sequence: 1)))
        let request = try #require(actions.sentPayloads.last)
        #expect(request.op == 8)
        #expect(request["guild_id"] == .string(String(Fixtures.guildID.rawValue)))
        #expect(request["query"] == .string(""))
        #expect(request["limit"]?.intValue == 0)
        #expect(request["nonce"] == .string(try #require(s.memberRequestNonce)))
        #expect(actions.states == [.connecting, .connected])
    }

    @Test func theTokenNeverShowsInTheSessionsDescription() {
        let (s, _) = Self.readySession()
        #expect(!String(describing: s).contains(Fixtures.token.revealed))
        #expect(!String(reflecting: s.configuration).contains(Fixtures.token.revealed))
    }

    // MARK: Heartbeats

    @Test func heartbeatsRunOnScheduleWithTheLastSequence() throws {
        var (s, _) = Self.readySession()
        #expect(s.tick(now: .seconds(19)).sentOps.isEmpty)
        let first = s.tick(now: .seconds(20)).sentPayloads
        #expect(first == [try SentPayload(Array(#"{"op":1,"d":1}"#.utf8))])
        _ = s.receive(.heartbeatACK, now: .milliseconds(20_150))
        #expect(s.heartbeatLatency == .milliseconds(150))
        _ = s.receive(.dispatch(.other(name: "TYPING_START"), sequence: 7), now: .seconds(30))
        #expect(s.nextDeadline == .seconds(60))
        #expect(s.tick(now: .seconds(59)).sentOps.isEmpty)
        let second = s.tick(now: .seconds(60)).sentPayloads
        #expect(second.first?.op == 1)
        #expect(second.first?.d?.intValue == 7)
    }

    @Test func aDuplicateOrStaleDispatchIsDroppedAndKeepsTheSequence() throws {
        var (s, _) = Self.readySession()
        let fresh = s.receive(.dispatch(.other(name: "TYPING_START"), sequence: 5), now: .seconds(1))
        #expect(fresh.contains(.deliver(.other(name: "TYPING_START"), sequence: 5)))
        let duplicate = s.receive(.dispatch(.other(name: "TYPING_START"), sequence: 5), now: .seconds(2))
        let stale = s.receive(.dispatch(.other(name: "GUILD_ROLE_DELETE"), sequence: 3), now: .seconds(3))
        #expect(!duplicate.contains { if case .deliver = $0 { true } else { false } })
        #expect(!stale.contains { if case .deliver = $0 { true } else { false } })
        #expect(s.sequence == 5, "a resume asks for what follows the newest event, not a replay of old ones")
        let heartbeat = s.tick(now: .seconds(20)).sentPayloads
        #expect(heartbeat.first?.d?.intValue == 5)
    }

    @Test func heartbeatBeforeAnyDispatchCarriesNull() {
        var s = GatewaySession(configuration: Fixtures.configuration(), identifyBudget: Fixtures.budget, random: FixedRandom(0))
        _ = s.start(now: .zero)
        _ = s.connectionOpened(now: .zero)
        _ = s.receive(.hello(Hello(heartbeatInterval: Self.interval)), now: .zero)
        let beat = s.tick(now: .zero)
        #expect(beat.contains(.send(Array(#"{"op":1,"d":null}"#.utf8))))
    }

    @Test func serverHeartbeatRequestIsAnsweredAtOnceWithoutMovingTheSchedule() {
        var (s, _) = Self.readySession()
        let due = s.nextDeadline
        let reply = s.receive(.heartbeatRequest, now: .seconds(5))
        #expect(reply.sentOps == [1])
        #expect(s.nextDeadline == due)
        #expect(s.tick(now: .seconds(20)).sentOps == [1])
    }

    @Test func noACKBetweenTwoHeartbeatsIsAZombieThatClosesWith4000AndResumes() throws {
        var (s, _) = Self.readySession()
        _ = s.receive(.dispatch(.other(name: "X"), sequence: 42), now: .seconds(1))
        #expect(s.tick(now: .seconds(20)).sentOps == [1])
        // No ACK; the next beat finds the connection dead.
        let zombie = s.tick(now: .seconds(60))
        #expect(zombie.closeCodes == [4000])
        #expect(zombie.sentOps.isEmpty)
        #expect(s.state == .disconnected)
        let closed = s.connectionClosed(code: 4000, now: .seconds(60))
        #expect(closed.disconnectReasons == [.zombie])
        // A session that was ready: resume at once on the resume URL.
        #expect(closed.connectURLs == [Fixtures.resumeBase + Fixtures.query])
        #expect(s.state == .resuming)
        _ = s.connectionOpened(now: .seconds(61))
        let hello = s.receive(.hello(Hello(heartbeatInterval: Self.interval)), now: .seconds(61))
        let resume = try #require(hello.sentPayloads.first)
        #expect(resume.op == 6)
        #expect(resume["session_id"] == .string("session-1"))
        #expect(resume["seq"]?.intValue == 42)
        #expect(resume["token"] == .string(Fixtures.token.revealed))
        let resumed = s.receive(.dispatch(.resumed, sequence: 43), now: .seconds(62))
        #expect(resumed.contains(.sessionStarted(.resumed)))
        #expect(s.sessionStart == .resumed)
        #expect(s.state == .connected)
        // The member request of READY was never answered: asked again (more than 30 s after the first).
        #expect(resumed.sentOps == [8])
    }

    @Test func anACKBetweenBeatsKeepsTheConnectionAlive() {
        var (s, _) = Self.readySession()
        for beat in 0..<5 {
            let t = D.seconds(20 + 40 * beat)
            #expect(s.tick(now: t).sentOps.contains(1))
            _ = s.receive(.heartbeatACK, now: t + .milliseconds(80))
        }
        #expect(s.state == .connected)
        #expect(s.heartbeatLatency == .milliseconds(80))
    }

    // MARK: op 7 and op 9

    @Test func reconnectRequestClosesWith4000AndResumes() throws {
        var (s, _) = Self.readySession()
        let actions = s.receive(.reconnect, now: .seconds(3))
        #expect(actions.closeCodes == [4000])
        let closed = s.connectionClosed(code: nil, now: .seconds(3))
        #expect(closed.disconnectReasons == [.reconnectRequested])
        #expect(closed.connectURLs == [Fixtures.resumeBase + Fixtures.query])
        _ = s.connectionOpened(now: .seconds(3))
        #expect(s.receive(.hello(Hello(heartbeatInterval: Self.interval)), now: .seconds(3)).sentOps == [6])
    }

    @Test func invalidSessionResumableResumes() {
        var (s, _) = Self.readySession()
        #expect(s.receive(.invalidSession(resumable: true), now: .seconds(100)).closeCodes == [4000])
        let closed = s.connectionClosed(code: 4000, now: .seconds(100))
        #expect(closed.connectURLs == [Fixtures.resumeBase + Fixtures.query])
        #expect(s.sessionID == "session-1")
    }

    @Test func invalidSessionNotResumableDropsTheSessionAndIdentifiesAfterOneToFiveSeconds() throws {
        var (s, _) = Self.readySession()
        #expect(s.receive(.invalidSession(resumable: false), now: .seconds(100)).closeCodes == [4000])
        #expect(s.sessionID == nil)
        #expect(s.sequence == nil)
        let closed = s.connectionClosed(code: 4000, now: .seconds(100))
        #expect(closed.connectURLs.isEmpty)
        // Uniform 1-5 s; FixedRandom(0.5) gives 3 s.
        #expect(s.nextDeadline == .seconds(103))
        #expect(s.tick(now: .milliseconds(102_999)).connectURLs.isEmpty)
        let connect = s.tick(now: .seconds(103))
        #expect(connect.connectURLs == [Fixtures.gatewayBase + Fixtures.query])
        _ = s.connectionOpened(now: .seconds(103))
        #expect(s.receive(.hello(Hello(heartbeatInterval: Self.interval)), now: .seconds(103)).sentOps == [2])
    }

    @Test func invalidSessionDelayBoundsAreOneAndFiveSeconds() {
        for (value, expected) in [(0.0, D.seconds(101)), (0.999, D.milliseconds(104_996))] {
            var s = GatewaySession(configuration: Fixtures.configuration(), identifyBudget: Fixtures.budget, random: FixedRandom(value))
            _ = s.start(now: .zero); _ = s.connectionOpened(now: .zero)
            _ = s.receive(.hello(Hello(heartbeatInterval: Self.interval)), now: .zero)
            _ = s.receive(.dispatch(.ready(Fixtures.ready()), sequence: 1), now: .zero)
            _ = s.receive(.invalidSession(resumable: false), now: .seconds(100))
            _ = s.connectionClosed(code: nil, now: .seconds(100))
            #expect(s.nextDeadline == expected)
        }
    }

    @Test func invalidSessionSoonAfterIdentifyWaitsForTheFifteenSecondFloor() {
        var (s, _) = Self.readySession()
        _ = s.receive(.invalidSession(resumable: false), now: .seconds(2))
        _ = s.connectionClosed(code: nil, now: .seconds(2))
        #expect(s.nextDeadline == .seconds(15))
        #expect(s.tick(now: .seconds(15)).connectURLs.count == 1)
    }

    // MARK: Close codes

    @Test(arguments: [4000, 4001, 4002, 4005, 4006, 4008, 1000, 1001, 1006] as [UInt16])
    func resumableCloseCodesResume(code: UInt16) {
        var (s, _) = Self.readySession()
        let closed = s.connectionClosed(code: code, now: .seconds(5))
        #expect(closed.disconnectReasons == [.closedByGateway(GatewayCloseCode(rawValue: code))])
        #expect(closed.connectURLs == [Fixtures.resumeBase + Fixtures.query])
        #expect(s.canResume)
    }

    @Test(arguments: [4003, 4007, 4009] as [UInt16])
    func sessionEndingCloseCodesIdentifyAnew(code: UInt16) {
        var (s, _) = Self.readySession()
        let closed = s.connectionClosed(code: code, now: .seconds(100))
        #expect(!s.canResume)
        #expect(closed.connectURLs == [Fixtures.gatewayBase + Fixtures.query])
        _ = s.connectionOpened(now: .seconds(100))
        #expect(s.receive(.hello(Hello(heartbeatInterval: Self.interval)), now: .seconds(100)).sentOps == [2])
    }

    @Test(arguments: [
        (4004, GatewayFatalReason.authenticationFailed), (4010, .invalidShard), (4011, .shardingRequired),
        (4012, .invalidAPIVersion), (4013, .invalidIntents), (4014, .disallowedIntents),
    ] as [(UInt16, GatewayFatalReason)])
    func fatalCloseCodesEndTheSessionWithoutReconnect(code: UInt16, reason: GatewayFatalReason) {
        var (s, _) = Self.readySession()
        let closed = s.connectionClosed(code: code, now: .seconds(5))
        #expect(closed.contains(.fatal(reason)))
        #expect(closed.states == [.fatal])
        #expect(closed.connectURLs.isEmpty)
        #expect(s.state == .fatal)
        #expect(s.fatalReason == reason)
        #expect(reason.closeCode.rawValue == code)
        #expect(s.nextDeadline == nil)
        // Nothing brings it back.
        #expect(s.tick(now: .seconds(1000)).isEmpty)
        #expect(s.connectionClosed(code: nil, now: .seconds(1000)).isEmpty)
    }

    @Test func fatalDuringIdentifyBeforeReadyIsFatalToo() {
        var s = GatewaySession(configuration: Fixtures.configuration(), identifyBudget: Fixtures.budget, random: FixedRandom())
        _ = s.start(now: .zero); _ = s.connectionOpened(now: .zero)
        _ = s.receive(.hello(Hello(heartbeatInterval: Self.interval)), now: .zero)
        #expect(s.connectionClosed(code: 4014, now: .seconds(1)).contains(.fatal(.disallowedIntents)))
    }

    @Test func networkLossWithoutACodeResumes() {
        var (s, _) = Self.readySession()
        let closed = s.connectionClosed(code: nil, now: .seconds(5))
        #expect(closed.disconnectReasons == [.connectionLost])
        #expect(closed.connectURLs == [Fixtures.resumeBase + Fixtures.query])
    }

    // MARK: Backoff and the identify floor

    @Test func repeatedConnectFailuresBackOffExponentiallyAndReadyResetsIt() {
        var s = GatewaySession(configuration: Fixtures.configuration(), identifyBudget: Fixtures.budget, random: FixedRandom(0.5))
        var now = D.zero
        #expect(s.start(now: now).connectURLs.count == 1)
        var delays: [D] = []
        for _ in 0..<9 {
            _ = s.connectionFailed(now: now)
            let next = try! #require(s.nextDeadline)
            delays.append(next - now)
            now = next
            #expect(s.tick(now: now).connectURLs.count == 1)
        }
        // 1 s × 2^(n-1) × 0.75 (jitter 0.5 → factor 0.75), capped at 120 s × 0.75.
        #expect(delays == [0.75, 1.5, 3, 6, 12, 24, 48, 90, 90].map { D.milliseconds(Int64($0 * 1000)) })
        #expect(s.consecutiveFailures == 9)
        _ = s.connectionOpened(now: now)
        _ = s.receive(.hello(Hello(heartbeatInterval: Self.interval)), now: now)
        _ = s.receive(.dispatch(.ready(Fixtures.ready()), sequence: 1), now: now)
        #expect(s.consecutiveFailures == 0)
        // The next drop resumes at once.
        #expect(s.connectionClosed(code: nil, now: now + .seconds(1)).connectURLs.count == 1)
    }

    @Test func backoffJitterNeverMakesTheNextDelayShorter() {
        for value in [0.0, 0.3, 0.999] {
            var s = GatewaySession(configuration: Fixtures.configuration(), identifyBudget: Fixtures.budget, random: FixedRandom(value))
            var now = D.zero
            _ = s.start(now: now)
            var last = D.zero
            for _ in 0..<6 {
                _ = s.connectionFailed(now: now)
                let next = s.nextDeadline!
                #expect(next - now >= last)
                last = next - now
                now = next
                _ = s.tick(now: now)
            }
        }
    }

    @Test func identifiesAreAtLeastFifteenSecondsApartEvenWhenConnectionsDieFast() {
        var s = GatewaySession(configuration: Fixtures.configuration(), identifyBudget: Fixtures.budget, random: FixedRandom(0.5))
        var now = D.zero
        var identifyTimes: [D] = []
        var pending = s.start(now: now)
        for _ in 0..<5 {
            // Advance to the planned connect.
            while pending.connectURLs.isEmpty {
                now = s.nextDeadline!
                pending = s.tick(now: now)
            }
            _ = s.connectionOpened(now: now)
            var sent = s.receive(.hello(Hello(heartbeatInterval: Self.interval)), now: now)
            while !sent.sentOps.contains(2) {
                now = s.nextDeadline!
                sent = s.tick(now: now)
            }
            identifyTimes.append(now)
            // The gateway drops the connection before READY.
            pending = s.connectionClosed(code: 4000, now: now + .milliseconds(200))
            now += .milliseconds(200)
        }
        for (a, b) in zip(identifyTimes, identifyTimes.dropFirst()) { #expect(b - a >= .seconds(15)) }
        #expect(s.identifyBudget?.remaining == 995)
    }

    @Test func anExhaustedBudgetWaitsForTheResetThenRefetches() throws {
        var s = GatewaySession(configuration: Fixtures.configuration(canFetch: true),
                               identifyBudget: IdentifyBudget(total: 1000, remaining: 0, resetAt: .seconds(3600)),
                               random: FixedRandom())
        let start = s.start(now: .zero)
        #expect(start.connectURLs.isEmpty)
        #expect(s.nextDeadline == .seconds(3600))
        #expect(s.state == .disconnected)
        let atReset = s.tick(now: .seconds(3600))
        #expect(atReset == [.fetchGatewayBot, .stateChanged(.connecting)])
        let bot = GatewayBot(url: "wss://other.test", sessionStartLimit: .init(total: 1000, remaining: 1000, resetAfter: 86_400_000, maxConcurrency: 1))
        let fetched = s.gatewayBotFetched(bot, now: .seconds(3601))
        // The configured URL wins over the fetched one.
        #expect(fetched.connectURLs == [Fixtures.gatewayBase + Fixtures.query])
        #expect(s.identifyBudget == IdentifyBudget(total: 1000, remaining: 1000, resetAt: .seconds(3601 + 86_400)))
    }

    @Test func withoutAURLTheSessionFetchesTheGatewayFirstAndRetriesFailuresWithBackoff() {
        var s = GatewaySession(configuration: Fixtures.configuration(canFetch: true, gatewayURL: nil), random: FixedRandom(0.5))
        #expect(s.start(now: .zero).contains(.fetchGatewayBot))
        let failed = s.gatewayBotFetchFailed(now: .seconds(1))
        #expect(failed.disconnectReasons == [.gatewayBotUnavailable])
        #expect(s.nextDeadline == .milliseconds(1750))
        #expect(s.tick(now: .milliseconds(1750)).contains(.fetchGatewayBot))
        let bot = GatewayBot(url: "wss://fetched.test", sessionStartLimit: .init(total: 1000, remaining: 5, resetAfter: 1000, maxConcurrency: 1))
        #expect(s.gatewayBotFetched(bot, now: .seconds(2)).connectURLs == ["wss://fetched.test" + Fixtures.query])
    }

    @Test func aResumeURLThatCannotBeReachedFallsBackToTheMainURL() throws {
        var (s, _) = Self.readySession()
        _ = s.connectionClosed(code: nil, now: .seconds(5))
        let failed = s.connectionFailed(now: .seconds(6))
        #expect(failed.disconnectReasons == [.connectFailed])
        let next = try #require(s.nextDeadline)
        let retry = s.tick(now: next)
        #expect(retry.connectURLs == [Fixtures.gatewayBase + Fixtures.query])
        #expect(s.state == .resuming)
        _ = s.connectionOpened(now: next)
        #expect(s.receive(.hello(Hello(heartbeatInterval: Self.interval)), now: next).sentOps == [6])
    }

    @Test func aResumeURLThatWouldDropTLSIsIgnored() {
        var s = GatewaySession(configuration: Fixtures.configuration(), identifyBudget: Fixtures.budget, random: FixedRandom())
        _ = s.start(now: .zero); _ = s.connectionOpened(now: .zero)
        _ = s.receive(.hello(Hello(heartbeatInterval: Self.interval)), now: .zero)
        var ready = Fixtures.ready()
        ready.resumeGatewayURL = "ws://plaintext.test"
        _ = s.receive(.dispatch(.ready(ready), sequence: 1), now: .zero)
        #expect(s.resumeURL == nil)
        // The session still resumes, on the main (TLS) URL.
        #expect(s.connectionClosed(code: nil, now: .seconds(1)).connectURLs == [Fixtures.gatewayBase + Fixtures.query])
    }

    @Test func aPlainResumeURLIsFineWhenTheGatewayItselfIsPlain() {
        var s = GatewaySession(configuration: Fixtures.configuration(gatewayURL: "ws://127.0.0.1:9000"),
                               identifyBudget: Fixtures.budget, random: FixedRandom())
        _ = s.start(now: .zero); _ = s.connectionOpened(now: .zero)
        _ = s.receive(.hello(Hello(heartbeatInterval: Self.interval)), now: .zero)
        var ready = Fixtures.ready()
        ready.resumeGatewayURL = "ws://127.0.0.1:9001/"
        _ = s.receive(.dispatch(.ready(ready), sequence: 1), now: .zero)
        #expect(s.connectionClosed(code: nil, now: .seconds(1)).connectURLs == ["ws://127.0.0.1:9001" + Fixtures.query])
    }

    // MARK: Member requests

    @Test func memberRequestsAreAtLeastThirtySecondsApart() {
        var (s, first) = Self.readySession()
        #expect(first.sentOps.last == 8)
        #expect(s.memberRequestNonce == "warden-1")
        // The session is lost and re-identified 16 s later: the new READY asks again, but only at 30 s.
        _ = s.connectionClosed(code: 4009, now: .seconds(1))
        now15(&s)
        _ = s.connectionOpened(now: .seconds(15))
        _ = s.receive(.hello(Hello(heartbeatInterval: Self.interval)), now: .seconds(15))
        let ready = s.receive(.dispatch(.ready(Fixtures.ready(sessionID: "session-2")), sequence: 1), now: .seconds(16))
        #expect(!ready.sentOps.contains(8))
        #expect(s.nextDeadline == .seconds(30))
        let later = s.tick(now: .seconds(30))
        #expect(later.sentOps == [8])
        #expect(s.memberRequestNonce == "warden-2")
    }

    private func now15(_ s: inout GatewaySession) {
        let next = s.nextDeadline!
        #expect(next == .seconds(15))
        #expect(s.tick(now: next).connectURLs.count == 1)
    }

    @Test func rateLimitedMemberRequestIsRetriedAfterRetryAfter() throws {
        var (s, _) = Self.readySession()
        _ = s.tick(now: .seconds(20)); _ = s.receive(.heartbeatACK, now: .seconds(20))
        let limited = GatewayRateLimited(opcode: 8, retryAfter: 12.5, guildID: Fixtures.guildID, nonce: "warden-1")
        let delivered = s.receive(.dispatch(.rateLimited(limited), sequence: 2), now: .seconds(21))
        #expect(delivered.contains(.deliver(.rateLimited(limited), sequence: 2)))
        #expect(s.tick(now: .milliseconds(33_499)).sentOps.isEmpty)
        let retry = s.tick(now: .milliseconds(33_500))
        #expect(retry.sentOps == [8])
        #expect(s.memberRequestNonce == "warden-2")
    }

    @Test func rateLimitedForAnotherOpcodeIsOnlyDelivered() {
        var (s, _) = Self.readySession()
        _ = s.receive(.dispatch(.rateLimited(GatewayRateLimited(opcode: 3, retryAfter: 5)), sequence: 2), now: .seconds(1))
        #expect(s.nextDeadline == .seconds(20))
    }

    @Test func resumedAfterAnAnsweredRequestDoesNotAskAgain() {
        var (s, _) = Self.readySession()
        let nonce = s.memberRequestNonce!
        for index in 0..<3 {
            let chunk = GuildMembersChunk(guildID: Fixtures.guildID, members: [], chunkIndex: index, chunkCount: 3, nonce: nonce)
            _ = s.receive(.dispatch(.guildMembersChunk(chunk), sequence: 2 + index), now: .seconds(1))
        }
        #expect(s.memberRequestAnswered)
        _ = s.connectionClosed(code: nil, now: .seconds(100))
        _ = s.connectionOpened(now: .seconds(100))
        _ = s.receive(.hello(Hello(heartbeatInterval: Self.interval)), now: .seconds(100))
        let resumed = s.receive(.dispatch(.resumed, sequence: 9), now: .seconds(100))
        #expect(!resumed.sentOps.contains(8))
        #expect(s.nextDeadline == .seconds(120))
    }

    @Test func resumedAfterAnUnansweredRequestAsksAgain() {
        var (s, _) = Self.readySession()
        let other = GuildMembersChunk(guildID: Fixtures.guildID, members: [], chunkIndex: 0, chunkCount: 1, nonce: "someone-else")
        _ = s.receive(.dispatch(.guildMembersChunk(other), sequence: 2), now: .seconds(1))
        #expect(!s.memberRequestAnswered)
        _ = s.connectionClosed(code: nil, now: .seconds(100))
        _ = s.connectionOpened(now: .seconds(100))
        _ = s.receive(.hello(Hello(heartbeatInterval: Self.interval)), now: .seconds(100))
        #expect(s.receive(.dispatch(.resumed, sequence: 9), now: .seconds(100)).sentOps == [8])
    }

    // MARK: Send limit

    @Test func commandsBeyondTheBudgetAreQueuedNotDroppedAndHeartbeatsStillGo() throws {
        var (s, actions) = Self.readySession()
        // Identify and op 8 used 2 of the 120; the reserve for a 40 s interval is ceil(60/40)+1 = 3.
        #expect(actions.sentOps == [2, 8])
        var sent = 0
        for i in 0..<200 {
            sent += s.send(Array(#"{"op":3,"d":\#(i)}"#.utf8), now: .seconds(1)).sentOps.count
        }
        #expect(sent == 117 - 2)
        #expect(s.nextDeadline == .seconds(20))
        // The heartbeat has its reserve.
        #expect(s.tick(now: .seconds(20)).sentOps == [1])
        _ = s.receive(.heartbeatACK, now: .seconds(20))
        // At 60 s the two sends of 0 s leave the window, but the heartbeat due then takes one slot and
        // heartbeats count toward the same 117; at 61 s the 115 sends of 1 s leave and the rest follows.
        let at60 = s.tick(now: .seconds(60))
        #expect(at60.sentOps == [1])
        let at61 = s.tick(now: .seconds(61))
        #expect(at61.sentOps.count == 85)
        let order = (at60 + at61).sentPayloads.filter { $0.op == 3 }.map { $0.d?.intValue }
        #expect(order.first == 115)
        #expect(order.last == 199)
    }

    // MARK: Other failures, stop

    @Test func noHelloInTimeClosesAndRetries() {
        var s = GatewaySession(configuration: Fixtures.configuration(), identifyBudget: Fixtures.budget, random: FixedRandom())
        _ = s.start(now: .zero)
        _ = s.connectionOpened(now: .zero)
        #expect(s.nextDeadline == .seconds(30))
        #expect(s.tick(now: .seconds(30)).closeCodes == [4000])
        let closed = s.connectionClosed(code: 4000, now: .seconds(30))
        #expect(closed.disconnectReasons == [.helloTimeout])
        #expect(s.consecutiveFailures == 1)
    }

    @Test func aCorruptStreamClosesWith4000AndResumes() {
        var (s, _) = Self.readySession()
        #expect(s.streamCorrupted(now: .seconds(3)).closeCodes == [4000])
        let closed = s.connectionClosed(code: 4000, now: .seconds(3))
        #expect(closed.disconnectReasons == [.streamCorrupted])
        #expect(closed.connectURLs == [Fixtures.resumeBase + Fixtures.query])
    }

    @Test func undecodablePayloadsStillAdvanceTheSequence() {
        var (s, _) = Self.readySession()
        #expect(s.receiveUndecodable(sequence: 17, now: .seconds(1)).isEmpty)
        #expect(s.sequence == 17)
        #expect(s.state == .connected)
    }

    @Test func aCloseTheTransportNeverReportsIsAbandonedAfterTheTimeout() {
        var (s, _) = Self.readySession()
        _ = s.receive(.reconnect, now: .seconds(1))
        #expect(s.nextDeadline == .seconds(6))
        let abandoned = s.tick(now: .seconds(6))
        #expect(abandoned.disconnectReasons == [.reconnectRequested])
        #expect(abandoned.connectURLs.count == 1)
    }

    @Test func stopClosesWith1000AndEnds() {
        var (s, _) = Self.readySession()
        let stop = s.stop(now: .seconds(1))
        #expect(stop.closeCodes == [1000])
        #expect(s.state == .disconnected)
        let closed = s.connectionClosed(code: 1000, now: .seconds(1))
        #expect(closed.contains(.stopped))
        #expect(closed.connectURLs.isEmpty)
        #expect(s.isFinished)
        #expect(s.nextDeadline == nil)
    }

    @Test func stopWhileWaitingEndsAtOnce() {
        var s = GatewaySession(configuration: Fixtures.configuration(), identifyBudget: Fixtures.budget, random: FixedRandom())
        _ = s.start(now: .zero)
        _ = s.connectionFailed(now: .zero)
        #expect(s.stop(now: .zero) == [.stopped])
        #expect(s.isFinished)
    }
}
