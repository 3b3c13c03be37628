import DiscordModels
import Foundation
import Testing
@testable import WardenConfig

/// `store.url` and its password, `store.ca_file`, and the `ha` section (SPEC 7).
@Suite("The PostgreSQL store and the ha section")
struct StoreConfigurationTests {
    @Test func theDefaultIsASQLiteFileAndOneInstance() throws {
        let config = try load(minimalConfig())
        #expect(config.store.url == nil)
        #expect(config.store.path == "warden.sqlite3")
        #expect(config.ha.leaseTTL == .seconds(10) && config.ha.renewInterval == .seconds(2))
        #expect(config.ha.instanceID.hasSuffix(":\(ProcessInfo.processInfo.processIdentifier)"))
    }

    @Test func aURLSelectsPostgreSQLWithLibpqsDefaults() throws {
        let config = try load(minimalConfig(more: #""store": {"url": "postgresql://warden@db.example.com"}"#))
        let url = try #require(config.store.url)
        #expect(url == StoreURL(host: "db.example.com", port: 5432, username: "warden", password: nil, database: "warden", sslMode: .prefer))
        #expect(config.store.password == nil)
    }

    @Test func theURLsPartsArePercentDecodedAndIPv6HostsWork() throws {
        let url = try StoreURL("postgres://war%40den:p%3Ass@[::1]:6543/my%20db?sslmode=verify-ca")
        #expect(url.username == "war@den" && url.password?.revealed == "p:ss" && url.host == "::1" && url.port == 6543)
        #expect(url.database == "my db" && url.sslMode == .verifyCA)
        #expect(url.redacted == "postgres://war@den@[::1]:6543/my db?sslmode=verify-ca")
    }

    @Test(arguments: [
        ("mysql://warden@db/warden", "postgres://"),
        ("postgres://db.example.com/warden", "database user"),
        ("postgres://warden@db.example.com:99999/warden", "port"),
        ("postgres://warden@/warden?host=/run/postgresql", "host"),
        ("postgres://warden@db/warden?sslmode=sometimes", "sslmode must be one of"),
        ("postgres://warden@db/warden?sslrootcert=/ca.pem", "sslrootcert"),
    ])
    func badURLsAreRefusedNamingTheKey(url: String, reason: String) {
        let error = loadError(minimalConfig(more: "\"store\": {\"url\": \"\(url)\"}"))
        #expect(error?.issues.map(\.key) == ["store.url"])
        #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
    }

    @Test func theURLsPasswordNeverAppearsInAnError() {
        let error = loadError(minimalConfig(more: #""store": {"url": "postgres://warden:hunter2-secret@db/warden?sslmode=bogus"}"#))
        #expect(error != nil)
        #expect(error?.description.contains("hunter2-secret") == false)
    }

    @Test func thePasswordComesFromTheURLTheFileOrTheEnvironmentAndOnlyOne() throws {
        let url = #""url": "postgres://warden@db/warden""#
        let files = Files(contents: ["/pw": "from-file\n"])
        let fromFile = try load(minimalConfig(more: "\"store\": {\(url), \"password_file\": \"/pw\"}"), files: files)
        #expect(fromFile.store.password?.revealed == "from-file")
        #expect(fromFile.secrets.contains(Secret("from-file")), "registered with the log redactor")
        let fromEnvironment = try load(minimalConfig(more: "\"store\": {\(url)}"), environment: ["WARDEN_STORE_PASSWORD": "from-env"])
        #expect(fromEnvironment.store.password?.revealed == "from-env")
        let inURL = try load(minimalConfig(more: #""store": {"url": "postgres://warden:in-url@db/warden"}"#))
        #expect(inURL.store.password?.revealed == "in-url")

        let twice = loadError(minimalConfig(more: #""store": {"url": "postgres://warden:in-url@db/warden", "password_file": "/pw"}"#), files: files)
        #expect(twice?.issues.map(\.key) == ["store.url"])
        #expect(twice?.description.contains("give it once") == true)
        #expect(twice?.description.contains("in-url") == false)
        let fileAndEnvironment = loadError(minimalConfig(more: "\"store\": {\(url), \"password_file\": \"/pw\"}"),
                                           environment: ["WARDEN_STORE_PASSWORD": "from-env"], files: files)
        #expect(fileAndEnvironment?.description.contains("WARDEN_STORE_PASSWORD") == true)
        #expect(fileAndEnvironment?.description.contains("from-env") == false)
    }

    @Test func pathAndURLTogetherAreAnErrorNamingBoth() {
        let error = loadError(minimalConfig(more: #""store": {"path": "/var/lib/warden/warden.sqlite3", "url": "postgres://warden@db/warden"}"#))
        #expect(error?.issues.map(\.key) == ["store.url"])
        #expect(error?.description.contains("store.path") == true && error?.description.contains("store.url") == true)
    }

    @Test func postgresOnlyKeysAreRefusedWithSQLite() {
        let files = Files(contents: ["/pw": "x", "/ca.pem": "x"])
        let error = loadError(minimalConfig(more: #""store": {"password_file": "/pw", "ca_file": "/ca.pem"}, "ha": {"lease_ttl": 5}"#), files: files)
        #expect(Set(error?.issues.compactMap(\.key) ?? []) == ["store.password_file", "store.ca_file", "ha.lease_ttl"])
    }

    @Test func haIsParsedAndRenewIntervalMustBeBelowLeaseTTL() throws {
        let url = #""store": {"url": "postgres://warden@db/warden"}"#
        let config = try load(minimalConfig(more: url + #", "ha": {"instance_id": "warden-a", "lease_ttl": 4.5, "renew_interval": 0.5}"#))
        #expect(config.ha.instanceID == "warden-a")
        #expect(config.ha.leaseTTL == .milliseconds(4500) && config.ha.renewInterval == .milliseconds(500))
        let slow = loadError(minimalConfig(more: url + #", "ha": {"lease_ttl": 2, "renew_interval": 2}"#))
        #expect(slow?.issues.map(\.key) == ["ha.renew_interval"])
        #expect(slow?.description.contains("shorter than ha.lease_ttl") == true)
        let bad = loadError(minimalConfig(more: url + #", "ha": {"lease_ttl": "ten", "instance_id": ""}"#))
        #expect(Set(bad?.issues.compactMap(\.key) ?? []) == ["ha.lease_ttl", "ha.instance_id"])
    }
}
