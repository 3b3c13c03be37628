import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import HummingbirdTesting
import ServiceLifecycle
import Testing
@testable import WardenService

@Suite struct HealthRouteTests {
    @Test func healthzAnswersWhileTheProcessLives() async throws {
        let harness = try HTTPHarness()
        try await harness.test { client in
            let response = try await client.execute(uri: "/healthz", method: .get)
            #expect(response.status == .ok)
            #expect(response.text == "ok\n")
        }
    }

    @Test func readyzIs503UntilTheCoreIsReady() async throws {
        let harness = try HTTPHarness()
        try await harness.test { client in
            let status1 = try await client.execute(uri: "/readyz", method: .get).status
            #expect(status1 == .serviceUnavailable)
            await harness.backend.setReady(true)
            let status2 = try await client.execute(uri: "/readyz", method: .get).status
            #expect(status2 == .ok)
            await harness.backend.setReady(false)
            let status3 = try await client.execute(uri: "/readyz", method: .get).status
            #expect(status3 == .serviceUnavailable)
        }
    }

    @Test func metricsAreServedAsPrometheusTextWithoutSecrets() async throws {
        let harness = try HTTPHarness()
        harness.metrics.gatewayState(.connected)
        harness.metrics.linkedUsers(7)
        try await harness.test { client in
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(response.text.contains("warden_gateway_state 3"))
            #expect(response.text.contains("warden_linked_users 7"))
            #expect(!response.text.contains(HTTPHarness.adminToken))
            #expect(!response.text.contains(HTTPHarness.appSecret))
        }
    }

    @Test func theServerRunsOnAnEphemeralPortInAServiceGroupAndStopsGracefully() async throws {
        let harness = try HTTPHarness()
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = try harness.server { port in continuation.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [server], logger: .init(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            #expect(port > 0)
            let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/healthz")!)
            #expect((response as? HTTPURLResponse)?.statusCode == 200)
            #expect(String(decoding: data, as: UTF8.self) == "ok\n")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
