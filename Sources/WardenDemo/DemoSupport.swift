import DiscordREST
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A step of the demo that did not happen as narrated.
struct DemoFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Waits until `condition` holds, checking every 20 ms, for at most `timeout`. The demo waits for real
/// events this way (a state the fake or the daemon reaches), never for a fixed time.
func waitUntil(_ what: String, timeout: Duration, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw DemoFailure("timed out after \(timeout) waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

extension Duration {
    /// Milliseconds with one decimal, for the narration.
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }

    var millisecondsText: String { String(format: "%.1f ms", milliseconds) }
}

/// A TCP port on 127.0.0.1 that was free a moment ago: the OAuth callback URL must name the HTTP
/// server's port before the server starts.
func freeLoopbackPort() throws -> Int {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw DemoFailure("cannot open a socket to find a free port") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw DemoFailure("cannot bind 127.0.0.1 to find a free port") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw DemoFailure("cannot read the free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Random URL-safe text for the demo's own admin token and secrets.
func randomToken(bytes: Int = 24) -> String {
    var generator = SystemRandomNumberGenerator()
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    return String((0..<(bytes * 4 / 3)).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
}

/// The median of some durations.
func median(_ values: [Duration]) -> Duration? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    return sorted[(sorted.count - 1) / 2]
}
