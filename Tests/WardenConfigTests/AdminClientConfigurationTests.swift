import Foundation
import Testing
@testable import WardenConfig

/// What the client commands read (SPEC 3.1): the daemon's address and the admin token, from the command
/// line and the environment, else from the configuration file's `http` section alone.
@Suite struct AdminClientConfigurationTests {
    /// Files readable through `readFile`, recording which were read.
    final class RecordingFiles: @unchecked Sendable {  // used from one test at a time, never concurrently
        var contents: [String: String]
        var read: [String] = []
        init(_ contents: [String: String] = [:]) { self.contents = contents }
        func readFile(_ path: String) throws -> [UInt8] {
            read.append(path)
            guard let text = contents[path] else { throw FileReadError(reason: "no such file") }
            return Array(text.utf8)
        }
    }

    static func load(url: String? = nil, config: String? = nil, allowInsecure: Bool = false,
                     environment: [String: String] = [:], files: RecordingFiles = RecordingFiles()) throws(ConfigurationError) -> AdminClientConfiguration {
        try AdminClientConfiguration.load(url: url, configPath: config, allowInsecureURL: allowInsecure,
                                          environment: environment, readFile: files.readFile)
    }

    static func issues(url: String? = nil, config: String? = nil, allowInsecure: Bool = false,
                       environment: [String: String] = [:], files: RecordingFiles = RecordingFiles(),
                       sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        do {
            _ = try load(url: url, config: config, allowInsecure: allowInsecure, environment: environment, files: files)
            Issue.record("expected the client configuration to be refused", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    // MARK: Without a configuration file

    @Test func theURLAndTheTokenFromTheEnvironmentNeedNoFile() throws {
        let files = RecordingFiles()
        let client = try Self.load(url: "http://127.0.0.1:9000", environment: ["WARDEN_ADMIN_TOKEN": sentinelAdmin], files: files)
        #expect(client.baseURL.absoluteString == "http://127.0.0.1:9000")
        #expect(client.adminToken.revealed == sentinelAdmin)
        #expect(client.addressOrigin == "--url")
        #expect(files.read.isEmpty, "no configuration file is looked for")
    }

    @Test func warden_URLAndATokenFileNeedNoConfigurationFile() throws {
        let files = RecordingFiles(["/run/secrets/admin": sentinelAdmin + "\n"])
        let client = try Self.load(environment: ["WARDEN_URL": "https://warden.example.com/admin/", "WARDEN_ADMIN_TOKEN_FILE": "/run/secrets/admin"],
                                   files: files)
        #expect(client.baseURL.absoluteString == "https://warden.example.com/admin", "a path prefix is kept, the trailing slash dropped")
        #expect(client.adminToken.revealed == sentinelAdmin)
        #expect(client.addressOrigin == "WARDEN_URL")
        #expect(files.read == ["/run/secrets/admin"], "only the token's file is read")
    }

    @Test func theURLOptionWinsOverWarden_URL() throws {
        let client = try Self.load(url: "http://localhost:7000",
                                   environment: ["WARDEN_URL": "http://127.0.0.1:9000", "WARDEN_ADMIN_TOKEN": "x"])
        #expect(client.baseURL.absoluteString == "http://localhost:7000")
    }

    @Test func whatIsMissingIsNamed() {
        #expect(Self.issues() == [
            #"no daemon address: give --url URL or set WARDEN_URL, or give --config FILE (cannot read configuration file "./config.json": no such file)"#,
            #"no admin token: set WARDEN_ADMIN_TOKEN or WARDEN_ADMIN_TOKEN_FILE, or give --config FILE (cannot read configuration file "./config.json": no such file)"#,
        ])
        #expect(Self.issues(url: "http://127.0.0.1:9000") == [
            #"no admin token: set WARDEN_ADMIN_TOKEN or WARDEN_ADMIN_TOKEN_FILE, or give --config FILE (cannot read configuration file "./config.json": no such file)"#,
        ])
        #expect(Self.issues(environment: ["WARDEN_ADMIN_TOKEN": "x", "WARDEN_CONFIG": "/etc/warden/config.json"]) == [
            #"no daemon address: give --url URL or set WARDEN_URL, or give --config FILE (cannot read configuration file "/etc/warden/config.json": no such file)"#,
        ])
    }

    @Test func bothTokenVariablesAreAnError() {
        let issues = Self.issues(url: "http://127.0.0.1:9000",
                                 environment: ["WARDEN_ADMIN_TOKEN": sentinelAdmin, "WARDEN_ADMIN_TOKEN_FILE": "/run/secrets/admin"])
        #expect(issues.count == 1)
        #expect(issues.first?.contains("not both") == true, "\(issues)")
        #expect(!issues.joined().contains(sentinelAdmin))
    }

    @Test func theTokenIsSentAsGivenWhateverItsLength() throws {
        // Its length is the daemon's rule (http.admin_token); the client only sends it.
        let client = try Self.load(url: "http://127.0.0.1:9000", environment: ["WARDEN_ADMIN_TOKEN": "short"])
        #expect(client.adminToken.revealed == "short")
    }

    // MARK: From the configuration file

    @Test func aFileHoldingOnlyHTTPIsEnough() throws {
        let files = RecordingFiles(["/etc/warden/config.json": #"{"http": {"listen": "127.0.0.1:9000", "admin_token": "\#(sentinelAdmin)"}}"#])
        let client = try Self.load(config: "/etc/warden/config.json", files: files)
        #expect(client.baseURL.absoluteString == "http://127.0.0.1:9000")
        #expect(client.addressOrigin == "http.listen")
        #expect(client.adminToken.revealed == sentinelAdmin)
    }

    @Test func theOtherSectionsAreNeitherRequiredNorChecked() throws {
        // The daemon would refuse this file (no Discord secrets, a bad guild id, an unknown section).
        let json = """
            {"discord": {"app_id": "111", "guild_id": "not a snowflake"}, "store": 7, "spare": true,
             "http": {"listen": "0.0.0.0:9000", "admin_token_file": "/run/secrets/admin", "public_url": "https://auth.example.com",
                      "success_url": "https://auth.example.com/services/"}}
            """
        let files = RecordingFiles(["./config.json": json, "/run/secrets/admin": sentinelAdmin])
        #expect(throws: ConfigurationError.self) { _ = try WardenConfiguration.parse(Array(json.utf8), environment: [:], readFile: files.readFile) }
        let client = try Self.load(files: files)
        #expect(client.baseURL.absoluteString == "http://127.0.0.1:9000", "a wildcard listen address is reached on loopback; http.listen wins over public_url")
        #expect(client.adminToken.revealed == sentinelAdmin)
    }

    @Test func theEnvironmentTokenWinsOverTheFiles() throws {
        let files = RecordingFiles(["./config.json": #"{"http": {"listen": "[::1]:9000", "admin_token": "from-the-file"}}"#])
        let client = try Self.load(environment: ["WARDEN_ADMIN_TOKEN": sentinelAdmin], files: files)
        #expect(client.baseURL.absoluteString == "http://[::1]:9000")
        #expect(client.adminToken.revealed == sentinelAdmin)
    }

    @Test func withoutListenThePublicURLIsTheAddress() throws {
        let files = RecordingFiles(["./config.json": #"{"http": {"public_url": "https://warden.example.com", "admin_token": "t"}}"#])
        let client = try Self.load(files: files)
        #expect(client.baseURL.absoluteString == "https://warden.example.com")
        #expect(client.addressOrigin == "http.public_url")
    }

    @Test func withNeitherTheDaemonsDefaultListenAddressIsUsed() throws {
        let files = RecordingFiles(["./config.json": #"{"http": {"admin_token": "t"}}"#])
        #expect(try Self.load(files: files).baseURL.absoluteString == "http://127.0.0.1:8080")
    }

    @Test func aFileWithoutATokenSaysWhereToPutOne() {
        let files = RecordingFiles(["/etc/warden/config.json": #"{"http": {"listen": "127.0.0.1:9000"}, "discord": {}}"#])
        #expect(Self.issues(config: "/etc/warden/config.json", files: files) == [
            "no admin token: set WARDEN_ADMIN_TOKEN or WARDEN_ADMIN_TOKEN_FILE, or http.admin_token or http.admin_token_file in /etc/warden/config.json",
        ])
    }

    @Test func badHTTPKeysAreNamed() {
        let files = RecordingFiles(["./config.json": #"{"http": {"listen": "nowhere", "admin_tokn": "t"}}"#])
        #expect(Self.issues(files: files) == ["http.admin_tokn: unknown key (did you mean admin_token?)"])
        let badListen = RecordingFiles(["./config.json": #"{"http": {"listen": "nowhere", "admin_token": "t"}}"#])
        #expect(Self.issues(files: badListen) == ["http.listen: must be host:port, such as 127.0.0.1:8080 or [::1]:8080"])
        let notJSON = RecordingFiles(["./config.json": #"{"http": "#])
        #expect(Self.issues(files: notJSON).first?.hasPrefix("./config.json: not valid JSON") == true)
        let notAnObject = RecordingFiles(["./config.json": #"{"http": []}"#])
        #expect(Self.issues(files: notAnObject) == ["http: expected an object, got an array"])
    }

    // MARK: The URL

    @Test(arguments: ["http://127.0.0.1:9000", "http://127.8.0.1", "http://localhost:80", "http://LOCALHOST", "http://[::1]:9000",
                      "https://warden.example.com", "https://10.0.0.5:8443/warden"])
    func theseAddressesAreAccepted(_ url: String) throws {
        #expect(try Self.load(url: url, environment: ["WARDEN_ADMIN_TOKEN": "t"]).baseURL.absoluteString == url)
    }

    @Test(arguments: ["http://10.0.0.5:8080", "http://warden.internal", "http://127.0.0.1.example.com", "http://[::2]:80", "http://0.0.0.0:8080"])
    func plainHTTPToAHostOtherThanLoopbackNeedsPermission(_ url: String) throws {
        let issues = Self.issues(url: url, environment: ["WARDEN_ADMIN_TOKEN": sentinelAdmin])
        #expect(issues.count == 1)
        #expect(issues.first?.hasPrefix("--url: http:// would send the admin token in clear text to ") == true, "\(issues)")
        #expect(issues.first?.hasSuffix("use https://, a loopback address (127.0.0.1, [::1], localhost), or --allow-insecure-url") == true)
        #expect(!issues.joined().contains(sentinelAdmin))
        #expect(try Self.load(url: url, allowInsecure: true, environment: ["WARDEN_ADMIN_TOKEN": "t"]).baseURL.absoluteString == url)
    }

    @Test func theVariableIsNamedWhenItsURLIsBad() {
        #expect(Self.issues(environment: ["WARDEN_URL": "http://10.0.0.5:8080", "WARDEN_ADMIN_TOKEN": "t"]).first?
            .hasPrefix("WARDEN_URL (--url): http:// would send the admin token in clear text") == true)
        let files = RecordingFiles(["./config.json": #"{"http": {"public_url": "http://auth.example.com", "admin_token": "t"}}"#])
        #expect(Self.issues(files: files).first?.hasPrefix("http.public_url: http:// would send the admin token in clear text") == true)
    }

    @Test(arguments: [
        ("warden.example.com", "--url: must be an absolute URL starting with https:// or http://"),
        ("ftp://warden.example.com", "--url: must start with https:// or http://"),
        ("https://warden.example.com/?token=1", "--url: must not have a query or fragment"),
        ("https://user:pass@warden.example.com", "--url: must not contain a user name or password"),
    ])
    func malformedURLsAreRefused(_ url: String, _ issue: String) {
        #expect(Self.issues(url: url, environment: ["WARDEN_ADMIN_TOKEN": "t"]) == [issue])
    }

    @Test func loopbackHosts() throws {
        func loopback(_ text: String) throws -> Bool { try ConfigURL(text, schemes: ["http"]).isLoopback }
        #expect(try loopback("http://127.0.0.1") && loopback("http://127.255.0.9:1") && loopback("http://localhost") && loopback("http://[::1]"))
        #expect(try !loopback("http://128.0.0.1") && !loopback("http://127.1") && !loopback("http://127.0.0.1.nip.io")
                && !loopback("http://[::2]") && !loopback("http://localhost.example.com") && !loopback("http://127.0.0.256"))
    }
}
