import CZlib

/// Memory bounds of a `ZlibStreamInflater`. Input from the network is untrusted: a peer that sends an
/// endless payload or a decompression bomb gets a typed error instead of unbounded memory.
public struct ZlibStreamLimits: Sendable, Hashable {
    /// The largest inflated gateway payload accepted (a GUILD_MEMBERS_CHUNK of 1000 members is several
    /// hundred KB; the default leaves a wide margin).
    public var maxInflatedPayloadBytes: Int
    /// The most compressed bytes buffered while waiting for the `00 00 ff ff` suffix of a payload.
    public var maxBufferedCompressedBytes: Int

    public init(maxInflatedPayloadBytes: Int = 32 << 20, maxBufferedCompressedBytes: Int = 8 << 20) {
        self.maxInflatedPayloadBytes = maxInflatedPayloadBytes
        self.maxBufferedCompressedBytes = min(maxBufferedCompressedBytes, Int(UInt32.max))
    }
}

/// Why a zlib-stream connection cannot go on. Every case means the connection's compression context is
/// unusable: drop the connection (and resume on a new one, which gets a fresh inflater).
public enum ZlibStreamError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An inflated payload grew past `ZlibStreamLimits.maxInflatedPayloadBytes`.
    case payloadTooLarge(limit: Int)
    /// Compressed bytes without the payload suffix piled up past `maxBufferedCompressedBytes`.
    case compressedBufferTooLarge(limit: Int)
    /// zlib refused the input (bad header, corrupt data, a dictionary request, a stream that ended).
    case corruptStream(code: Int32, message: String)
    /// zlib could not set up an inflate context (out of memory).
    case initializationFailed(code: Int32)
    /// An earlier error left the stream unusable; call `reset()` (a new connection).
    case streamFailed

    public var description: String {
        switch self {
        case .payloadTooLarge(let limit): "zlib-stream payload larger than \(limit) bytes"
        case .compressedBufferTooLarge(let limit): "zlib-stream buffered more than \(limit) compressed bytes without a payload end"
        case .corruptStream(let code, let message): "zlib-stream corrupt (zlib \(code)): \(message)"
        case .initializationFailed(let code): "zlib inflateInit failed (\(code))"
        case .streamFailed: "zlib-stream already failed on this connection"
        }
    }
}

/// Inflates Discord's `compress=zlib-stream` transport compression: one zlib context for a whole
/// connection (the dictionary carries over from payload to payload), a payload complete when a received
/// message ends with the `Z_SYNC_FLUSH` marker `00 00 ff ff`.
///
/// Owned by exactly one connection reader; not `Sendable` on purpose (it holds a C `z_stream`).
/// `reset()` prepares it for a new connection.
public final class ZlibStreamInflater {
    /// Output is produced in chunks of this size.
    static let chunkSize = 64 * 1024
    private static let suffix: (UInt8, UInt8, UInt8, UInt8) = (0x00, 0x00, 0xFF, 0xFF)

    public let limits: ZlibStreamLimits
    /// The zlib context. Allocated once: zlib keeps a pointer back to it, so it must not move.
    private let stream: UnsafeMutablePointer<z_stream>
    private let chunk: UnsafeMutablePointer<UInt8>
    /// Compressed bytes of a payload split across several messages.
    private var pending: [UInt8] = []
    private var initialized = false
    private var failed = false
    private var ended = false

    /// Creates the inflater and its zlib context.
    public init(limits: ZlibStreamLimits = ZlibStreamLimits()) throws(ZlibStreamError) {
        self.limits = limits
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        chunk = .allocate(capacity: Self.chunkSize)
        try start()
    }

    deinit {
        if initialized { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
        chunk.deallocate()
    }

    /// Forgets everything of the previous connection: buffered bytes, dictionary, failure.
    public func reset() throws(ZlibStreamError) {
        pending.removeAll(keepingCapacity: false)
        failed = false
        ended = false
        if initialized {
            let rc = inflateReset(stream)
            if rc == Z_OK { return }
            inflateEnd(stream)
            initialized = false
        }
        try start()
    }

    /// True when compressed bytes of an unfinished payload are buffered.
    public var hasPendingInput: Bool { !pending.isEmpty }

    /// Feeds one received WebSocket message. Returns the inflated payload when this message completes
    /// one (it ends with `00 00 ff ff`), or nil while the payload is still incomplete.
    /// Any thrown error leaves the inflater failed until `reset()`.
    public func feed(_ message: [UInt8]) throws(ZlibStreamError) -> [UInt8]? {
        guard !failed else { throw .streamFailed }
        let complete = Self.endsWithSuffix(message)
        if pending.isEmpty && complete {
            // Fast path: the whole payload in one message, inflated straight from it.
            return try inflatePayload(message)
        }
        guard pending.count + message.count <= limits.maxBufferedCompressedBytes else {
            failed = true
            pending.removeAll(keepingCapacity: false)
            throw .compressedBufferTooLarge(limit: limits.maxBufferedCompressedBytes)
        }
        pending.append(contentsOf: message)
        // The suffix can straddle messages (a last message of 1-3 bytes): look at what is buffered.
        guard complete || Self.endsWithSuffix(pending) else { return nil }
        let input = pending
        pending.removeAll(keepingCapacity: false)
        return try inflatePayload(input)
    }

    private func start() throws(ZlibStreamError) {
        stream.pointee = z_stream()
        let rc = warden_inflateInit(stream)
        guard rc == Z_OK else { failed = true; throw .initializationFailed(code: rc) }
        initialized = true
    }

    private static func endsWithSuffix(_ bytes: [UInt8]) -> Bool {
        let n = bytes.count
        guard n >= 4 else { return false }
        return bytes[n - 4] == suffix.0 && bytes[n - 3] == suffix.1 && bytes[n - 2] == suffix.2 && bytes[n - 1] == suffix.3
    }

    private func inflatePayload(_ input: [UInt8]) throws(ZlibStreamError) -> [UInt8] {
        guard input.count <= limits.maxBufferedCompressedBytes else {
            failed = true
            throw .compressedBufferTooLarge(limit: limits.maxBufferedCompressedBytes)
        }
        if ended {
            failed = true
            throw .corruptStream(code: Z_STREAM_END, message: "data after the end of the zlib stream")
        }
        var output: [UInt8] = []
        // JSON deflates about 5-10x: one allocation covers most payloads.
        output.reserveCapacity(min(max(input.count &* 8, 1024), limits.maxInflatedPayloadBytes))
        var tooLarge = false
        let result: Int32 = input.withUnsafeBufferPointer { source -> Int32 in
            let z = stream
            z.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            z.pointee.avail_in = UInt32(source.count)
            defer {
                // No dangling pointer into `input` stays behind in the C struct.
                z.pointee.next_in = nil
                z.pointee.avail_in = 0
            }
            while true {
                z.pointee.next_out = chunk
                z.pointee.avail_out = UInt32(Self.chunkSize)
                let rc = inflate(z, Z_SYNC_FLUSH)
                let produced = Self.chunkSize - Int(z.pointee.avail_out)
                if produced > 0 {
                    if output.count + produced > limits.maxInflatedPayloadBytes { tooLarge = true; return Z_OK }
                    output.append(contentsOf: UnsafeBufferPointer(start: chunk, count: produced))
                }
                switch rc {
                case Z_OK:
                    // Keep going while input remains or the output chunk was filled (more may be pending).
                    if z.pointee.avail_in == 0 && z.pointee.avail_out != 0 { return Z_OK }
                case Z_BUF_ERROR:
                    // No progress possible: all input consumed and everything flushed.
                    return Z_OK
                case Z_STREAM_END:
                    return Z_STREAM_END
                default:
                    return rc
                }
            }
        }
        if tooLarge {
            failed = true
            throw .payloadTooLarge(limit: limits.maxInflatedPayloadBytes)
        }
        switch result {
        case Z_OK:
            break
        case Z_STREAM_END:
            ended = true
        default:
            failed = true
            let message = stream.pointee.msg.map { String(cString: $0) } ?? "error \(result)"
            throw .corruptStream(code: result, message: message)
        }
        return output
    }
}

@available(*, unavailable, message: "one connection reader owns a ZlibStreamInflater")
extension ZlibStreamInflater: Sendable {}
