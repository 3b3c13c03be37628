import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// `warden run` as a child process whose log lines (stderr, JSON) can be awaited as events.
final class WardenProcess: @unchecked Sendable {  // mutable state is behind `lock`; `process` is only started once
    let process = Process()
    private let lock = NSLock()
    private var lines: [String] = []
    private var partial = Data()
    private var waiters: [Int: (predicate: @Sendable (String) -> Bool, continuation: CheckedContinuation<String, any Error>)] = [:]
    private var nextWaiter = 0

    /// - Parameter openFilesLimit: started under `ulimit -n` this low (through /bin/sh) when given.
    init(configPath: String, openFilesLimit: Int? = nil) throws {
        let binary = try WardenRunProcessTests.binary()
        if let openFilesLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(openFilesLimit) && exec \"$0\" run --config \"$1\"", binary.path, configPath]
        } else {
            process.executableURL = binary
            process.arguments = ["run", "--config", configPath]
        }
        process.environment = ["PATH": "/usr/bin:/bin"]
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        errors.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil; return }
            self?.received(data)
        }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var log: [String] { lock.lock(); defer { lock.unlock() }; return lines }

    private func received(_ data: Data) {
        lock.lock()
        partial.append(data)
        var ready: [(CheckedContinuation<String, any Error>, String)] = []
        while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: partial[partial.startIndex..<newline], as: UTF8.self)
            partial.removeSubrange(partial.startIndex...newline)
            lines.append(line)
            for (id, waiter) in waiters where waiter.predicate(line) {
                waiters[id] = nil
                ready.append((waiter.continuation, line))
            }
        }
        lock.unlock()
        for (continuation, line) in ready { continuation.resume(returning: line) }
    }

    /// The first log line (from the start) matching `predicate`, waiting up to `timeout`. The wait is
    /// cancellable, so a line that never comes fails the test after `timeout` instead of hanging it.
    @discardableResult
    func waitForLine(timeout: Duration = .seconds(60), _ what: String,
                     where predicate: @escaping @Sendable (String) -> Bool) async throws -> String {
        let id = lock.withLock { () -> Int in defer { nextWaiter += 1 }; return nextWaiter }
        return try await within(timeout, "log line: \(what)") {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    self.lock.lock()
                    if let line = self.lines.first(where: predicate) {
                        self.lock.unlock()
                        continuation.resume(returning: line)
                        return
                    }
                    if Task.isCancelled {
                        self.lock.unlock()
                        continuation.resume(throwing: CancellationError())
                        return
                    }
                    self.waiters[id] = (predicate, continuation)
                    self.lock.unlock()
                }
            } onCancel: {
                self.lock.lock()
                let waiter = self.waiters.removeValue(forKey: id)
                self.lock.unlock()
                waiter?.continuation.resume(throwing: CancellationError())
            }
        }
    }

    /// SIGKILL: no handler runs, nothing is flushed; returns when the process is gone.
    func kill() async {
        _ = Glibc.kill(pid, SIGKILL)
        _ = await process.exitStatus()
        failWaiters()
    }

    /// SIGTERM and the exit status.
    func terminate() async -> Int32 {
        process.terminate()
        let status = await process.exitStatus()
        failWaiters()
        return status
    }

    /// Waits for the process to end by itself (bounded by the caller's test time limit).
    func waitForExit() async -> Int32 {
        await process.exitStatus()
    }

    private func failWaiters() {
        lock.lock()
        let pending = waiters.values.map(\.continuation)
        waiters = [:]
        lock.unlock()
        for continuation in pending { continuation.resume(throwing: ChaosTimedOut(what: "a log line (the process ended)")) }
    }
}

/// A free TCP port on 127.0.0.1 (bound and released; a child process binds it next).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress -> Int32 in
            guard bind(fd, socketAddress, length) == 0 else { return -1 }
            return getsockname(fd, socketAddress, &length)
        }
    }
    guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// One plain HTTP/1.1 request to a loopback server (no redirects followed).
struct LoopbackAnswer: Sendable {
    var status: Int
    var location: String?
    /// The cookie a `Set-Cookie` answer sets, as `name=value`.
    var cookie: String?
    var body: String
    var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] }
}

func loopbackHTTP(port: Int, _ method: HTTPRequest.Method, _ path: String, bearer: String? = nil,
                  body: String? = nil, cookie: String? = nil) async throws -> LoopbackAnswer {
    var headers = HTTPFields()
    if let bearer { headers[.authorization] = "Bearer \(bearer)" }
    if let cookie { headers[.cookie] = cookie }
    if body != nil { headers[.contentType] = "application/json" }
    let client = TestClient(host: "127.0.0.1", port: port)
    client.connect()
    defer { Task { try? await client.shutdown() } }
    let response = try await client.execute(TestClient.Request(path, method: method, authority: "127.0.0.1:\(port)",
                                                               headers: headers, body: body.map { ByteBuffer(string: $0) }))
    return LoopbackAnswer(status: response.status.code, location: response.headers[.location],
                          cookie: response.headers[.setCookie].map { String($0.prefix { $0 != ";" }) },
                          body: response.body.map { String(decoding: $0.readableBytesView, as: UTF8.self) } ?? "")
}
