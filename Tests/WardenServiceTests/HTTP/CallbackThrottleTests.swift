import Testing
import WardenConfig
@testable import WardenService

/// The callback throttle (SPEC 1.9) as a pure value: time is a number the test moves.
@Suite struct CallbackThrottleTests {
    @Test func fiveCallbacksAMinutePerActivationLink() {
        var throttle = CallbackThrottle()
        for second in 0..<5 { #expect(throttle.admit(link: "link-a", at: Double(second)) == .admitted) }
        #expect(throttle.admit(link: "link-a", at: 10) == .throttled(retryAfter: 50))
        #expect(throttle.admit(link: "link-b", at: 10) == .admitted, "another link has its own count")
        #expect(throttle.admit(link: "link-a", at: 59.5) == .throttled(retryAfter: 1))
        #expect(throttle.admit(link: "link-a", at: 60) == .admitted, "the first callback left the window")
        #expect(throttle.admit(link: "link-a", at: 60.5) == .throttled(retryAfter: 1))
        #expect(throttle.admit(link: "link-a", at: 61) == .admitted)
    }

    @Test func thirtyCallbacksAMinutePerClientAddress() {
        var throttle = CallbackThrottle()
        for index in 0..<30 { #expect(throttle.admit(client: "192.0.2.1", at: Double(index) / 10) == .admitted) }
        #expect(throttle.admit(client: "192.0.2.1", at: 3) == .throttled(retryAfter: 57))
        #expect(throttle.admit(client: "192.0.2.2", at: 3) == .admitted)
        // Throttled callbacks are not counted: a minute after the admitted ones, the address is free again.
        for _ in 0..<100 { _ = throttle.admit(client: "192.0.2.1", at: 30) }
        #expect(throttle.admit(client: "192.0.2.1", at: 63) == .admitted)
    }

    @Test func linksAndClientsAreCountedApart() {
        var throttle = CallbackThrottle()
        for second in 0..<5 { #expect(throttle.admit(link: "same", at: Double(second)) == .admitted) }
        #expect(throttle.admit(client: "same", at: 5) == .admitted)
    }

    @Test func memoryStaysBoundedUnderAFloodOfAddresses() {
        var throttle = CallbackThrottle(maximumKeys: 1000)
        for index in 0..<50_000 {
            _ = throttle.admit(client: "2001:db8::\(String(index, radix: 16))", at: Double(index) / 1000)
            #expect(throttle.trackedKeys <= 1001)
        }
        // The newest addresses are still counted.
        for _ in 0..<29 { _ = throttle.admit(client: "2001:db8::c34f", at: 50) }
        #expect(throttle.admit(client: "2001:db8::c34f", at: 50) == .throttled(retryAfter: 60))
        // Once the window has passed, old keys are swept.
        _ = throttle.admit(client: "late", at: 10_000)
        for index in 0..<1100 { _ = throttle.admit(client: "x\(index)", at: 10_000) }
        #expect(throttle.trackedKeys <= 1001)
    }
}

@Suite struct ClientAddressResolverTests {
    let resolver = ClientAddressResolver(trustedProxies: IPAddressRange.loopback + [IPAddressRange("10.0.0.0/8")!])

    func client(_ peer: String?, _ forwarded: String...) -> String {
        resolver.client(peer: peer.flatMap { IPAddress($0) }, forwardedFor: forwarded)
    }

    @Test func thePeerIsTheClientUnlessItIsATrustedProxy() {
        #expect(client("203.0.113.9") == "203.0.113.9")
        #expect(client("203.0.113.9", "198.51.100.1") == "203.0.113.9", "an untrusted peer cannot name someone else")
        #expect(client("127.0.0.1") == "127.0.0.1")
        #expect(client("127.0.0.1", "198.51.100.1") == "198.51.100.1")
        #expect(client("::1", "2001:db8::7") == "2001:db8::7")
        #expect(client("::ffff:127.0.0.1", "198.51.100.1") == "198.51.100.1")
        #expect(client(nil, "198.51.100.1") == "unknown")
    }

    @Test func theListIsReadFromTheRightPastTrustedProxiesOnly() {
        // client, then a proxy in 10/8, then loopback: the client is the first untrusted from the right.
        #expect(client("127.0.0.1", "198.51.100.1, 10.1.2.3") == "198.51.100.1")
        #expect(client("127.0.0.1", "6.6.6.6, 198.51.100.1, 10.1.2.3") == "198.51.100.1", "the spoofed left entry is ignored")
        #expect(client("127.0.0.1", "6.6.6.6", "198.51.100.1") == "198.51.100.1", "several headers are one list")
        #expect(client("127.0.0.1", "10.0.0.5, 10.0.0.6") == "10.0.0.5", "all trusted: the leftmost")
        #expect(client("127.0.0.1", "198.51.100.1, garbage, 10.1.2.3") == "10.1.2.3", "a bad entry ends the walk")
        #expect(client("127.0.0.1", "garbage") == "127.0.0.1")
        #expect(client("127.0.0.1", "198.51.100.1:4711") == "198.51.100.1")
        #expect(client("127.0.0.1", "[2001:db8::7]:4711") == "2001:db8::7")
    }

    @Test func withNoTrustedProxiesTheHeaderNeverCounts() {
        let none = ClientAddressResolver(trustedProxies: [])
        #expect(none.client(peer: IPAddress("127.0.0.1"), forwardedFor: ["198.51.100.1"]) == "127.0.0.1")
    }
}

@Suite struct BrowserBindingTests {
    @Test func aStateMatchesOnlyTheCookieItWasIssuedFor() {
        let binding = BrowserBinding.random()
        #expect(binding.value.count == 43)
        #expect(BrowserBinding.random().value != binding.value)
        let name = Linking.cookieName
        #expect(BrowserBinding.matches(binding.hash, cookieHeaders: ["\(name)=\(binding.value)"], name: name))
        #expect(BrowserBinding.matches(binding.hash, cookieHeaders: ["a=1; \(name)=\(binding.value); b=2"], name: name))
        #expect(BrowserBinding.matches(binding.hash, cookieHeaders: ["a=1", "\(name)=stale; \(name)=\(binding.value)"], name: name))
        #expect(!BrowserBinding.matches(binding.hash, cookieHeaders: [], name: name))
        #expect(!BrowserBinding.matches(binding.hash, cookieHeaders: ["\(name)=\(BrowserBinding.random().value)"], name: name))
        #expect(!BrowserBinding.matches(binding.hash, cookieHeaders: ["other=\(binding.value)"], name: name))
        #expect(!BrowserBinding.matches(binding.hash, cookieHeaders: ["\(name)=\(binding.hash)"], name: name), "the hash is not the value")
        #expect(!BrowserBinding.matches("", cookieHeaders: ["\(name)="], name: name), "an unbound state never matches")
    }

    @Test func theCookieIsHttpOnlyLaxAndSecureOnHTTPS() {
        let cookie = LinkCookie(name: "warden_link", value: "v", path: "/discord/callback/", secure: true, maxAge: 600)
        #expect(cookie.headerValue == "warden_link=v; Path=/discord/callback/; Max-Age=600; HttpOnly; SameSite=Lax; Secure")
        var plain = cookie
        plain.secure = false
        #expect(!plain.headerValue.contains("Secure"))
    }
}
