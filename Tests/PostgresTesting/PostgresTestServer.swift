import AuthStore
import DiscordModels
import Foundation
import Logging
import PostgresNIO
#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL for tests (Debian's `postgresql` package): one cluster per test process, made with
/// `initdb` in a temporary folder on a free loopback port the first time a test asks, stopped and
/// removed when the process exits. Each test gets a database of its own (``makeDatabase()``).
///
/// As root (CI), `initdb` and `postgres` run as the `postgres` user (`runuser`), in a folder it owns.
/// Logins over TCP need the password (SCRAM), so the store's password handling is exercised for real.
///
/// Without PostgreSQL: in CI (`CI` set) the tests that need it fail; elsewhere they are left out with
/// a message (``availability``).
public final class PostgresTestServer: Sendable {
    public static let superuser = "postgres"
    public static let password = "warden-test-\(UUID().uuidString.prefix(8))"

    public let port: Int
    public let directory: String
    private let postmasterPID: Locked<Int32?>
    private static let databaseCount = Locked(0)

    /// Whether the PostgreSQL tests run here: true with PostgreSQL installed, and always in CI (where a
    /// missing server then fails them). Prints why when they are left out.
    public static let availability: Bool = {
        if binaryDirectory() != nil { return true }
        if ProcessInfo.processInfo.environment["CI"] != nil { return true }
        print("PostgreSQL is not installed (apt-get install postgresql): the PostgreSQL store tests are left out")
        return false
    }()

    /// The server of this test process, started on first use.
    public static func shared() throws -> PostgresTestServer {
        try started.withLock { state in
            if let server = state.server { return server }
            if let failure = state.failure { throw failure }
            do {
                let server = try PostgresTestServer()
                state.server = server
                atexit { PostgresTestServer.stopShared() }
                return server
            } catch {
                state.failure = error
                throw error
            }
        }
    }

    private static let started = Locked<(server: PostgresTestServer?, failure: (any Error)?)>((nil, nil))

    private static func stopShared() {
        started.withLock { $0.server }?.stop()
    }

    /// A fresh, empty database on the shared server, as a store configuration (TLS off, password login).
    public static func makeDatabase(logger: Logger = Logger(label: "warden.test.postgres")) async throws -> PostgresStoreConfiguration {
        let server = try shared()
        let name = "warden_test_\(getpid())_\(databaseCount.withLock { value -> Int in value += 1; return value })"
        try await server.execute("CREATE DATABASE \(name) ENCODING 'UTF8' TEMPLATE template0", logger: logger)
        return server.configuration(database: name)
    }

    /// A store configuration for `database` on this server.
    public func configuration(database: String) -> PostgresStoreConfiguration {
        PostgresStoreConfiguration(host: "127.0.0.1", port: port, username: Self.superuser, password: Secret(Self.password),
                                   database: database, tls: .disable, connectAttempts: 2, firstRetryDelay: .milliseconds(200),
                                   readerConnections: 1)
    }

    /// Runs one statement on the `postgres` database (creating databases, cutting sessions off).
    public func execute(_ sql: String, logger: Logger = Logger(label: "warden.test.postgres")) async throws {
        let connection = try await PostgresConnection.connect(
            configuration: .init(host: "127.0.0.1", port: port, username: Self.superuser, password: Self.password,
                                 database: "postgres", tls: .disable),
            id: 1, logger: logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    // MARK: - The cluster

    private init() throws {
        guard let bin = Self.binaryDirectory() else {
            throw ServerFailure("PostgreSQL is not installed (no initdb in PATH or /usr/lib/postgresql/*/bin): apt-get install postgresql")
        }
        Self.removeStaleClusters()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-pg-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "\(getpid())\n".write(toFile: directory + "/owner.pid", atomically: true, encoding: .utf8)
        let asUser = getuid() == 0 ? Self.superuser : nil
        if let asUser {
            guard let account = getpwnam(asUser) else { throw ServerFailure("running as root, but there is no \(asUser) user to run PostgreSQL as") }
            chown(directory, account.pointee.pw_uid, account.pointee.pw_gid)
        }
        let passwordFile = directory + "/password"
        try Self.password.write(toFile: passwordFile, atomically: true, encoding: .utf8)
        if let asUser, let account = getpwnam(asUser) { chown(passwordFile, account.pointee.pw_uid, account.pointee.pw_gid) }
        try Self.run(bin + "/initdb", ["-D", directory + "/data", "-U", Self.superuser, "--pwfile=\(passwordFile)",
                                       "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
                     as: asUser, log: directory + "/initdb.log")
        let port = try Self.freePort()
        self.port = port
        self.directory = directory
        self.postmasterPID = Locked(nil)
        let server = Process()
        let (executable, arguments) = Self.command(bin + "/postgres", [
            "-D", directory + "/data", "-p", "\(port)", "-k", directory, "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=600",
            "-c", "shared_buffers=32MB", "-c", "log_min_messages=warning",
        ], as: asUser)
        server.executableURL = URL(fileURLWithPath: executable)
        server.arguments = arguments
        _ = FileManager.default.createFile(atPath: directory + "/server.log", contents: nil)
        if let asUser, let account = getpwnam(asUser) { chown(directory + "/server.log", account.pointee.pw_uid, account.pointee.pw_gid) }
        let log = FileHandle(forWritingAtPath: directory + "/server.log")
        server.standardOutput = log
        server.standardError = log
        try server.run()
        // Ready once postmaster.pid says so (its last line is "ready").
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8),
               text.split(separator: "\n").last.map({ $0.trimmingCharacters(in: .whitespaces) == "ready" }) == true {
                postmasterPID.withLock { $0 = text.split(separator: "\n").first.flatMap { Int32($0) } }
                return
            }
            guard server.isRunning else { break }
            usleep(50_000)
        }
        let serverLog = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
        throw ServerFailure("PostgreSQL did not start on port \(port): \(serverLog.suffix(2000))")
    }

    /// Stops the server (fast shutdown) and removes its folder.
    public func stop() {
        if let pid = postmasterPID.withLock({ $0 }) {
            kill(pid, SIGINT)
            for _ in 0..<200 where kill(pid, 0) == 0 { usleep(50_000) }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Clusters left by test processes that died without stopping them.
    private static func removeStaleClusters() {
        let temporary = FileManager.default.temporaryDirectory.path
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: temporary) else { return }
        for name in names where name.hasPrefix("warden-pg-") {
            let folder = temporary + "/" + name
            guard let owner = (try? String(contentsOfFile: folder + "/owner.pid", encoding: .utf8)).flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
                  kill(owner, 0) != 0 else { continue }
            if let text = try? String(contentsOfFile: folder + "/data/postmaster.pid", encoding: .utf8),
               let pid = text.split(separator: "\n").first.flatMap({ Int32($0) }) {
                kill(pid, SIGQUIT)
            }
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    static func binaryDirectory() -> String? {
        let manager = FileManager.default
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            if manager.isExecutableFile(atPath: "\(folder)/initdb"), manager.isExecutableFile(atPath: "\(folder)/postgres") {
                return URL(fileURLWithPath: "\(folder)/initdb").resolvingSymlinksInPath().deletingLastPathComponent().path
            }
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? manager.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
        for version in versions where manager.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") {
            return "\(root)/\(version)/bin"
        }
        return nil
    }

    private static func command(_ executable: String, _ arguments: [String], as user: String?) -> (String, [String]) {
        guard let user else { return (executable, arguments) }
        return ("/usr/sbin/runuser", ["-u", user, "--", executable] + arguments)
    }

    private static func run(_ executable: String, _ arguments: [String], as user: String?, log: String) throws {
        let (path, all) = command(executable, arguments, as: user)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = all
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = FileHandle(forWritingAtPath: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw ServerFailure("\(executable) failed (\(process.terminationStatus)): \(text.suffix(2000))")
        }
    }

    /// A loopback port nobody listens on now.
    public static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ServerFailure("socket() failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else { throw ServerFailure("bind() failed") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

public struct ServerFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
