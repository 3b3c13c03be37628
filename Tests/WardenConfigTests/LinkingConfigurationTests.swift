import Testing
@testable import WardenConfig

/// SPEC 1.9 and 3.2: the activation link's lifetime, the proxies whose `X-Forwarded-For` counts, and the
/// rule that the activation link and the callback share scheme and host (the cookie must reach it).
@Suite("Linking configuration")
struct LinkingConfigurationTests {
    @Test func activationLinkTTLIsOneSecondToSevenDays() throws {
        #expect(try load(minimalConfig(http: #""activation_link_ttl": 60"#)).http.activationLinkTTL == 60)
        #expect(try load(minimalConfig(http: #""activation_link_ttl": 604800"#)).http.activationLinkTTL == 604_800)
        for bad in ["0", "604801", "-1", "1.5", #""900""#] {
            let error = loadError(minimalConfig(http: #""activation_link_ttl": \#(bad)"#))
            #expect(error?.issues.map(\.key) == ["http.activation_link_ttl"], "\(bad)")
        }
    }

    @Test func trustedProxiesAreAddressesOrRangesOfEitherFamily() throws {
        let config = try load(minimalConfig(http: #""trusted_proxies": ["192.0.2.10", "10.0.0.0/8", "2001:db8::/32", "::1", "10.1.2.3/16"]"#))
        #expect(config.http.trustedProxies.map(\.description) == ["192.0.2.10", "10.0.0.0/8", "2001:db8::/32", "::1", "10.1.0.0/16"])
        #expect(try load(minimalConfig(http: #""trusted_proxies": []"#)).http.trustedProxies.isEmpty)
        #expect(try load(minimalConfig(http: #""trusted_proxies": null"#)).http.trustedProxies == IPAddressRange.loopback)

        let error = loadError(minimalConfig(http: #""trusted_proxies": ["10.0.0.0/8", "proxy.example.com", "10.0.0.0/33", 7, "::1/129"]"#))
        #expect(error?.issues.map(\.key) == ["http.trusted_proxies[1]", "http.trusted_proxies[2]", "http.trusted_proxies[3]",
                                             "http.trusted_proxies[4]"])
        #expect(loadError(minimalConfig(http: #""trusted_proxies": "10.0.0.0/8""#))?.issues.map(\.key) == ["http.trusted_proxies"])
    }

    @Test func publicURLAndCallbackURLShareSchemeAndHost() throws {
        _ = try load(minimalConfig(http: #""public_url": "https://auth.example.com""#))
        _ = try load(minimalConfig(http: #""public_url": "https://AUTH.example.com:8443/warden""#))
        for publicURL in ["https://warden.example.com", "http://auth.example.com"] {
            // allow_insecure_urls: the http:// one is refused for its scheme, not for being plain text.
            let error = loadError(minimalConfig(discord: #""allow_insecure_urls": true"#, http: #""public_url": "\#(publicURL)""#))
            let issue = try #require(error?.issues.first)
            #expect(error?.issues.count == 1)
            #expect(issue.key == "http.public_url")
            #expect(issue.message.contains("discord.callback_url"))
            #expect("\(error!)".contains("http.public_url") && "\(error!)".contains("discord.callback_url"))
        }
        // Without public_url the links are under http://<listen>, for local setups.
        _ = try load(minimalConfig())
    }
}

@Suite("IP addresses and ranges")
struct IPAddressTests {
    @Test func addressesParseAndPrintInBothFamilies() {
        #expect(IPAddress("192.0.2.1")?.bytes == [192, 0, 2, 1])
        #expect(IPAddress("2001:db8::1")?.description == "2001:db8::1")
        #expect(IPAddress("::ffff:192.0.2.1") == IPAddress("192.0.2.1"), "an IPv4-mapped address is the IPv4 address")
        for bad in ["", "localhost", "192.0.2.1:80", "[::1]", "256.0.0.1", "1.2.3", "fe80::1%eth0", " 192.0.2.1"] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
    }

    @Test func rangesContainTheirAddressesOnly() throws {
        let v4 = try #require(IPAddressRange("10.0.0.0/8"))
        #expect(v4.contains(IPAddress("10.255.1.2")!))
        #expect(!v4.contains(IPAddress("11.0.0.1")!))
        #expect(!v4.contains(IPAddress("::ffff:11.0.0.1")!))
        #expect(v4.contains(IPAddress("::ffff:10.0.0.1")!))
        let v6 = try #require(IPAddressRange("2001:db8::/32"))
        #expect(v6.contains(IPAddress("2001:db8:ffff::1")!))
        #expect(!v6.contains(IPAddress("2001:db9::1")!))
        #expect(!v6.contains(IPAddress("10.0.0.1")!))
        let odd = try #require(IPAddressRange("192.168.1.0/23"))
        #expect(odd.description == "192.168.0.0/23")
        #expect(odd.contains(IPAddress("192.168.1.200")!) && !odd.contains(IPAddress("192.168.2.1")!))
        let single = try #require(IPAddressRange("203.0.113.7"))
        #expect(single.contains(IPAddress("203.0.113.7")!) && !single.contains(IPAddress("203.0.113.8")!))
        let everything = try #require(IPAddressRange("0.0.0.0/0"))
        #expect(everything.contains(IPAddress("8.8.8.8")!))
        #expect(IPAddressRange("::ffff:10.0.0.0/104")?.description == "10.0.0.0/8")
        for bad in ["10.0.0.0/", "10.0.0.0/x", "10.0.0.0/-1", "::/200", "/8", "::ffff:10.0.0.0/64"] {
            #expect(IPAddressRange(bad) == nil, "\(bad)")
        }
        #expect(IPAddressRange.loopback.contains { $0.contains(IPAddress("127.1.2.3")!) })
        #expect(IPAddressRange.loopback.contains { $0.contains(IPAddress("::1")!) })
        #expect(!IPAddressRange.loopback.contains { $0.contains(IPAddress("::2")!) })
    }
}
