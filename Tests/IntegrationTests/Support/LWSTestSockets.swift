#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A TCP socket on 127.0.0.1 with an ephemeral port that never speaks, for connection-failure tests.
final class LWSTestSilentSocket: Sendable {
    let port: Int
    private let descriptor: Int32

    /// Bound but not listening: connecting to the port is refused.
    static func refusing() throws -> LWSTestSilentSocket {
        try LWSTestSilentSocket(listen: false)
    }

    /// Listening but never accepting: the kernel completes the TCP handshake, nothing answers the
    /// WebSocket handshake.
    static func mute() throws -> LWSTestSilentSocket {
        try LWSTestSilentSocket(listen: true)
    }

    private init(listen shouldListen: Bool) throws {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw LWSTestSocketError.failed("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            close(fd)
            throw LWSTestSocketError.failed("bind")
        }
        if shouldListen, listen(fd, 16) != 0 {
            close(fd)
            throw LWSTestSocketError.failed("listen")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            close(fd)
            throw LWSTestSocketError.failed("getsockname")
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// On a `mute()` socket: accepts one connection on a thread of its own, never answers it, and
    /// reports when the client's first bytes arrived and when the client closed the connection.
    func watchOneClient() -> (requests: AsyncStream<Void>, hangUps: AsyncStream<Void>) {
        let (requests, requestSink) = AsyncStream.makeStream(of: Void.self)
        let (hangUps, hangUpSink) = AsyncStream.makeStream(of: Void.self)
        let listener = descriptor
        let thread = Thread {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                requestSink.finish()
                hangUpSink.finish()
                return
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            var announced = false
            while true {
                let count = buffer.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                if !announced {
                    announced = true
                    requestSink.yield()
                }
            }
            close(client)
            requestSink.finish()
            hangUpSink.yield()
            hangUpSink.finish()
        }
        thread.start()
        return (requests, hangUps)
    }

    deinit {
        // Wakes a thread blocked in accept, then releases the port.
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
    }
}

enum LWSTestSocketError: Error {
    case failed(String)
}
