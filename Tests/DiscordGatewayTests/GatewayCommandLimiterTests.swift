@testable import DiscordGateway
import Testing

@Suite struct GatewayCommandLimiterTests {
    @Test func reserveIsCeilOfWindowOverIntervalPlusOne() {
        #expect(GatewayCommandLimiter(heartbeatInterval: .milliseconds(41_250)).reservedForHeartbeats == 3)
        #expect(GatewayCommandLimiter(heartbeatInterval: .seconds(60)).reservedForHeartbeats == 2)
        #expect(GatewayCommandLimiter(heartbeatInterval: .seconds(30)).reservedForHeartbeats == 3)
        #expect(GatewayCommandLimiter(heartbeatInterval: .seconds(20)).commandBudget == 116)
        #expect(GatewayCommandLimiter().reservedForHeartbeats == 0)
    }

    @Test func commandsStopAtTheBudgetWhileHeartbeatsUseTheReserve() {
        var limiter = GatewayCommandLimiter(heartbeatInterval: .milliseconds(41_250))
        var sent = 0
        while limiter.canSend(heartbeat: false, at: .seconds(1)) {
            limiter.record(at: .seconds(1))
            sent += 1
        }
        #expect(sent == 117)
        for _ in 0..<3 {
            #expect(limiter.canSend(heartbeat: true, at: .seconds(2)))
            limiter.record(at: .seconds(2))
        }
        #expect(!limiter.canSend(heartbeat: true, at: .seconds(2)))
        #expect(limiter.used(at: .seconds(2)) == 120)
    }

    @Test func theWindowSlides() {
        var limiter = GatewayCommandLimiter(limit: 3, window: .seconds(10))
        limiter.record(at: .seconds(0))
        limiter.record(at: .seconds(4))
        limiter.record(at: .seconds(8))
        #expect(!limiter.canSend(heartbeat: false, at: .seconds(9)))
        #expect(limiter.nextSendTime(heartbeat: false, after: .seconds(9)) == .seconds(10))
        #expect(limiter.canSend(heartbeat: false, at: .seconds(10)))
        limiter.record(at: .seconds(10))
        #expect(limiter.nextSendTime(heartbeat: false, after: .seconds(10)) == .seconds(14))
        #expect(limiter.used(at: .seconds(19)) == 1)
        #expect(limiter.nextSendTime(heartbeat: false, after: .seconds(19)) == .seconds(19))
    }

    @Test func nextSendTimeForCommandsAccountsForTheReserve() {
        var limiter = GatewayCommandLimiter(limit: 10, window: .seconds(60), heartbeatInterval: .seconds(30))
        #expect(limiter.commandBudget == 7)
        for second in 0..<7 { limiter.record(at: .seconds(Int64(second))) }
        // The 7 command slots are used; one must leave the window before the next command.
        #expect(limiter.nextSendTime(heartbeat: false, after: .seconds(7)) == .seconds(60))
        #expect(limiter.nextSendTime(heartbeat: true, after: .seconds(7)) == .seconds(7))
        limiter.reset()
        #expect(limiter.used(at: .seconds(7)) == 0)
    }
}
