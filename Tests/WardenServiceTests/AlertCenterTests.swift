import Clocks
import DiscordModels
import DiscordREST
import Foundation
import Testing
@testable import WardenService

/// An HTTP transport that answers from a script and records what it was sent.
actor ScriptedTransport: HTTPTransport {
    private var answers: [Result<HTTPResponse, HTTPTransportError>]
    private(set) var requests: [HTTPRequest] = []
    private var waiters: [(Int, CheckedContinuation<Void, Never>)] = []

    init(_ answers: [Result<HTTPResponse, HTTPTransportError>]) { self.answers = answers }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        requests.append(request)
        let ready = waiters.filter { requests.count >= $0.0 }
        waiters.removeAll { requests.count >= $0.0 }
        for waiter in ready { waiter.1.resume() }
        let answer = answers.isEmpty ? .success(HTTPResponse(status: 204)) : answers.removeFirst()
        return try answer.get()
    }

    func waitForRequests(_ count: Int) async {
        if requests.count >= count { return }
        await withCheckedContinuation { waiters.append((count, $0)) }
    }
}

@Suite struct AlertCenterTests {
    @Test func aDiscordWebhookGetsAnEmbedAndAnyOtherURLTheAlertObject() throws {
        let transport = ScriptedTransport([])
        let alert = Alert(kind: .botRoleNotTop, severity: .warning, message: "role \"Officers\" ranks above the bot",
                          details: [:], raisedAt: Date(timeIntervalSince1970: 0))
        let discord = AlertWebhook(url: "https://discord.com/api/webhooks/1/abc", transport: transport)
        #expect(discord.isDiscordWebhook)
        let embed = String(decoding: try discord.body(for: .raised(alert)), as: UTF8.self)
        #expect(embed.contains(#""embeds":[{"#))
        #expect(embed.contains("bot_role_not_top"))

        let other = AlertWebhook(url: "https://alerts.example.com/hook", transport: transport)
        #expect(!other.isDiscordWebhook)
        let object = try JSONDecoder().decode([String: JSONValue].self, from: Data(other.body(for: .raised(alert))))
        #expect(object["kind"] == .string("bot_role_not_top"))
        #expect(object["resolved_at"] == .null)
    }

    @Test func webhookFailuresAreRetriedAndNeverBlockTheCaller() async throws {
        let transport = ScriptedTransport([.failure(.network("refused")), .success(HTTPResponse(status: 502)),
                                           .success(HTTPResponse(status: 204))])
        let webhook = AlertWebhook(url: "https://alerts.example.com/hook", transport: transport, sleep: { _ in })
        let center = AlertCenter(clock: TestClock<Duration>(), repeatAfter: .seconds(3600), webhook: webhook)
        center.observe(.authFailed, AlertCondition(message: "the bot token is invalid"))
        #expect(center.isOpen(.authFailed), "observe returns at once, before the webhook is sent")
        await transport.waitForRequests(3)
        let requests = await transport.requests
        #expect(requests.count == 3)
        #expect(requests.allSatisfy { $0.method == .post && $0.url == "https://alerts.example.com/hook" })
    }

    @Test func aResolvedAlertIsSentAgainWithResolvedAt() async throws {
        let transport = ScriptedTransport([])
        let webhook = AlertWebhook(url: "https://alerts.example.com/hook", transport: transport, sleep: { _ in })
        let center = AlertCenter(clock: TestClock<Duration>(), repeatAfter: .seconds(3600), webhook: webhook)
        center.observe(.gatewayDown, AlertCondition(message: "no gateway session"))
        center.observe(.gatewayDown, nil)
        await transport.waitForRequests(2)
        let last = try #require(await transport.requests.last?.body)
        let object = try JSONDecoder().decode([String: JSONValue].self, from: Data(last))
        #expect(object["resolved_at"] != .null)
        #expect(center.recent.map(\.kind) == [.gatewayDown])
        #expect(center.open.isEmpty)
    }
}
