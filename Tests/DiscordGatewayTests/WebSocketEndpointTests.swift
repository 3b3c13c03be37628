@testable import DiscordGateway
import Testing

/// Reading `ws://` and `wss://` URLs (configuration and Discord's `resume_gateway_url`) into what lws needs.
@Suite struct WebSocketEndpointTests {
    @Test func discordGatewayURL() throws {
        let endpoint = try WebSocketEndpoint(parsing: "wss://gateway.discord.gg/?v=10&encoding=json&compress=zlib-stream")
        #expect(endpoint == WebSocketEndpoint(
            secure: true, host: "gateway.discord.gg", port: 443, path: "/?v=10&encoding=json&compress=zlib-stream"))
        #expect(endpoint.hostHeader == "gateway.discord.gg")
    }

    @Test func resumeURLWithoutPathGetsARootPath() throws {
        let endpoint = try WebSocketEndpoint(parsing: "wss://gateway-us-east1-b.discord.gg")
        #expect(endpoint.path == "/")
        #expect(endpoint.port == 443)
    }

    @Test func queryDirectlyAfterTheHost() throws {
        let endpoint = try WebSocketEndpoint(parsing: "wss://gateway.discord.gg?v=10")
        #expect(endpoint.host == "gateway.discord.gg")
        #expect(endpoint.path == "/?v=10")
    }

    @Test func plainWebSocketWithPortAndSchemeInCapitals() throws {
        let endpoint = try WebSocketEndpoint(parsing: "WS://127.0.0.1:8080/gateway?v=10")
        #expect(endpoint == WebSocketEndpoint(secure: false, host: "127.0.0.1", port: 8080, path: "/gateway?v=10"))
        #expect(endpoint.hostHeader == "127.0.0.1:8080")
    }

    @Test func defaultPortsAreLeftOutOfTheHostHeader() throws {
        #expect(try WebSocketEndpoint(parsing: "ws://localhost/").port == 80)
        #expect(try WebSocketEndpoint(parsing: "ws://localhost:80/").hostHeader == "localhost")
        #expect(try WebSocketEndpoint(parsing: "wss://localhost:443/").hostHeader == "localhost")
        #expect(try WebSocketEndpoint(parsing: "wss://localhost:80/").hostHeader == "localhost:80")
        #expect(try WebSocketEndpoint(parsing: "ws://localhost:/").port == 80)
    }

    @Test func ipv6Literal() throws {
        let endpoint = try WebSocketEndpoint(parsing: "ws://[::1]:9000/x")
        #expect(endpoint.host == "::1")
        #expect(endpoint.port == 9000)
        #expect(endpoint.hostHeader == "[::1]:9000")
        #expect(try WebSocketEndpoint(parsing: "wss://[2001:db8::7]/").hostHeader == "[2001:db8::7]")
    }

    @Test(arguments: [
        "", "gateway.discord.gg", "https://gateway.discord.gg/", "http://gateway.discord.gg/",
        "wsx://gateway.discord.gg/", "ws:/gateway.discord.gg/", "ws://", "ws:///path", "ws://:443/",
        "ws://host:0/", "ws://host:65536/", "ws://host:99999999999999999999/", "ws://host:12a/", "ws://host:-1/",
        "wss://bot:token@gateway.discord.gg/", "wss://gateway.discord.gg/#fragment",
        "wss://gateway.discord.gg/ path", "wss://gateway.discord.gg/\r\nX-Injected: 1", "wss://gätewäy.example/",
        "wss://gateway.discord.gg/?q=\u{7F}", "ws://[::1/", "ws://[::1]x/", "ws://[zz::1]/", "ws://[]/",
        "ws://host%2f/", "ws://a:b:c/",
    ])
    func rejected(url: String) {
        #expect(throws: WebSocketConnectError.self) { try WebSocketEndpoint(parsing: url) }
    }

    @Test func errorsDoNotEchoTheURL() {
        // The URL might carry a secret; error messages describe the problem without repeating it.
        do {
            _ = try WebSocketEndpoint(parsing: "wss://bot:sekrit-token@gateway.discord.gg/")
            Issue.record("expected an error")
        } catch {
            #expect(!error.description.contains("sekrit"))
        }
    }

    @Test func wholeSecondsRoundUpToAtLeastOne() {
        #expect(LWSWebSocketTransport.wholeSeconds(.seconds(20)) == 20)
        #expect(LWSWebSocketTransport.wholeSeconds(.milliseconds(1500)) == 2)
        #expect(LWSWebSocketTransport.wholeSeconds(.zero) == 1)
        #expect(LWSWebSocketTransport.wholeSeconds(.seconds(-5)) == 1)
    }
}
