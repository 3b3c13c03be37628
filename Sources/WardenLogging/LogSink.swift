import Foundation

/// Where formatted log lines go. A line has no trailing newline; the sink adds one.
/// Lines reach a sink already redacted.
public protocol LogSink: Sendable {
    func write(_ line: String)
}

/// Standard error, one `write(2)` per line so that lines from different threads never interleave.
public struct StandardErrorSink: LogSink {
    public init() {}

    public func write(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                #if canImport(Glibc)
                let written = Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                #else
                let written = Darwin.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                #endif
                if written > 0 {
                    offset += written
                } else if written < 0, errno == EINTR {
                    continue
                } else {
                    return // stderr closed or full: a log line is not worth blocking or crashing for
                }
            }
        }
    }
}

/// Keeps every line in memory, for tests (and for showing a log in `warden demo`).
public final class InMemoryLogSink: LogSink, @unchecked Sendable {
    // @unchecked Sendable: `storage` is only touched under `lock`.
    private let lock = NSLock()
    private var storage: [String] = []

    public init() {}

    public func write(_ line: String) {
        lock.lock()
        storage.append(line)
        lock.unlock()
    }

    /// The lines written so far.
    public var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }

    /// All lines joined with newlines.
    public var text: String { lines.joined(separator: "\n") }
}
