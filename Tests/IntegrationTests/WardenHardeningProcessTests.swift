import DiscordFake
import DiscordModels
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 13 items 7, 9 and 11 with real `warden run` processes against DiscordFake: one process per
/// SQLite store, private files, a warning for a secrets file others can read, and slow connections under
/// a low open-files limit that cannot lock out `/healthz` or the admin API.
@Suite(.serialized, .timeLimit(.minutes(3))) struct WardenHardeningProcessTests {
    static let adminToken = "admin-token-for-hardening-tests-0123456789"

    struct Setup {
        let discord: FakeDiscord
        let directory: URL
        let configPath: String
        var storePath: String { directory.appendingPathComponent("warden.sqlite3").path }

        /// Every `warden run` started for the test, stopped by `finish` whatever happened.
        let processes = Locked<[WardenProcess]>([])

        func launch(openFilesLimit: Int? = nil) async throws -> WardenProcess {
            let process = try start(openFilesLimit: openFilesLimit)
            try await process.waitForLine(timeout: .seconds(60), "the HTTP server listening") { $0.contains("HTTP server listening") }
            return process
        }

        func start(openFilesLimit: Int? = nil) throws -> WardenProcess {
            let process = try WardenProcess(configPath: configPath, openFilesLimit: openFilesLimit)
            processes.withLock { $0.append(process) }
            return process
        }

        /// Runs the test's `body`, then kills whatever it left running and removes the fake and the files.
        func run(_ body: () async throws -> Void) async throws {
            var failure: (any Error)?
            do { try await body() } catch { failure = error }
            for process in processes.withLock({ $0 }) where process.process.isRunning { await process.kill() }
            await discord.stop()
            try? FileManager.default.removeItem(at: directory)
            if let failure { throw failure }
        }
    }

    /// DiscordFake and a configuration for it; the bot token goes into `botTokenFile` (with `mode`) when given.
    static func setUp(listen: String = "127.0.0.1:0", botTokenFileMode: mode_t? = nil) async throws -> Setup {
        var configuration = FakeConfiguration()
        configuration.identifyConcurrencyWindow = nil
        let discord = FakeDiscord(configuration: configuration, seed: FakeSeed())
        try await discord.start()
        let directory = try WardenRunProcessTests.directory()
        var botToken = #""bot_token": "\#(discord.botToken.revealed)""#
        if let botTokenFileMode {
            let path = directory.appendingPathComponent("bot_token").path
            try Data(discord.botToken.revealed.utf8).write(to: URL(fileURLWithPath: path))
            #expect(chmod(path, botTokenFileMode) == 0)
            botToken = #""bot_token_file": "\#(path)""#
        }
        let json = """
            {"discord": {"app_id": "\(discord.application.id)", "app_secret": "\(discord.application.secret.revealed)",
              \(botToken), "guild_id": "\(discord.guildID)",
              "callback_url": "http://127.0.0.1:9/discord/callback/", "api_base_url": "\(discord.apiBaseURL)",
              "gateway_url": "\(discord.gatewayURL)", "oauth_authorize_url": "\(discord.authorizeURL)"},
             "store": {"path": "\(directory.appendingPathComponent("warden.sqlite3").path)"},
             "http": {"listen": "\(listen)", "admin_token": "\(adminToken)"},
             "log": {"format": "json"}}
            """
        let configPath = directory.appendingPathComponent("config.json").path
        try Data(json.utf8).write(to: URL(fileURLWithPath: configPath))
        return Setup(discord: discord, directory: directory, configPath: configPath)
    }

    static func mode(_ path: String) -> String {
        guard let permissions = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber else { return "missing" }
        return String(permissions.uint32Value & 0o777, radix: 8)
    }

    @Test func aSecondWardenRunOnTheSameStoreExitsWith2NamingTheStoreAndTheRunningProcess() async throws {
        let setup = try await Self.setUp()
        try await setup.run {
            let first = try await setup.launch()

            let second = try setup.start()
            // Its refusal, or (the bug) its start: then it is stopped, so that the test fails instead of waiting.
            let outcome = try await second.waitForLine(timeout: .seconds(60), "a refusal or a start") {
                $0.contains("in use by another warden run") || $0.contains("warden started")
            }
            if outcome.contains("warden started") { second.process.terminate() }
            let status = await second.waitForExit()
            let log = second.log.joined(separator: "\n")
            #expect(status == 2, "\(log.suffix(2000))")
            #expect(log.contains(setup.storePath), "names the store: \(log.suffix(2000))")
            #expect(log.contains("pid \(first.pid)"), "names the running process: \(log.suffix(2000))")
            #expect(!log.contains("warden started"), "it started nothing")
            #expect(first.process.isRunning, "the first one is left alone")

            // SIGKILL: the kernel drops the lock with the process; the next start is not refused.
            await first.kill()
            let third = try await setup.launch()
            #expect(await third.terminate() == 0)
        }
    }

    @Test func theFilesWardenRunCreatesAreItsOwnAndAnOpenSecretsFileIsWarnedAbout() async throws {
        let setup = try await Self.setUp(botTokenFileMode: 0o644)
        try await setup.run {
            let process = try await setup.launch()
            for file in [setup.storePath, setup.storePath + "-wal", setup.storePath + "-shm", setup.storePath + ".lock"] {
                #expect(Self.mode(file) == "600", "\(file)")
            }
            let warning = try await process.waitForLine("the secrets file warning") { $0.contains("discord.bot_token_file") }
            #expect(warning.contains("\"level\":\"warning\""), "\(warning)")
            #expect(warning.contains(setup.directory.appendingPathComponent("bot_token").path) && warning.contains("0644"))
            #expect(process.log.allSatisfy { !$0.contains(setup.discord.botToken.revealed) }, "the secret itself is never logged")
            #expect(await process.terminate() == 0)
        }
    }

    @Test func underALowOpenFilesLimitSlowConnectionsCannotLockOutHealthzOrTheAPI() async throws {
        let port = try freeLoopbackPort()
        let setup = try await Self.setUp(listen: "127.0.0.1:\(port)")
        // The reviewer's setup: 110 connections that each send half a request, under `ulimit -n 128`.
        try await setup.run {
            let process = try await setup.launch(openFilesLimit: 128)
            #expect(process.log.contains { $0.contains("http.max_connections lowered") }, "the cap follows the open-files limit")

            let sockets = await offPool { (0..<110).map { _ in slowLoopbackSocket(port: port) } }
            #expect(sockets.allSatisfy { $0 >= 0 })
            defer { for socket in sockets where socket >= 0 { close(socket) } }
            let health = try await loopbackHTTP(port: port, .get, "/healthz")
            #expect(health.status == 200)
            let status = try await loopbackHTTP(port: port, .get, "/api/status", bearer: Self.adminToken)
            #expect(status.status == 200)
            #expect(await process.terminate() == 0)
        }
    }
}

/// A connection to 127.0.0.1:`port` that sends the start of a request and nothing more; -1 on failure.
/// Blocking calls: run it off the cooperative pool.
private func slowLoopbackSocket(port: Int) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return -1 }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    let start = Array("GET /heal".utf8)
    guard connected == 0, send(fd, start, start.count, Int32(MSG_NOSIGNAL)) == start.count else {
        close(fd)
        return -1
    }
    return fd
}
