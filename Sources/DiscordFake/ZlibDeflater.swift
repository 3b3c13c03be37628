import CZlib

/// One zlib deflate context for one gateway connection (Discord's `compress=zlib-stream`): every payload
/// is deflated with `Z_SYNC_FLUSH` on the same stream, so its output ends with `00 00 ff ff` and the
/// dictionary carries over between payloads.
///
/// Owned by the connection's writer task only; frees the zlib state exactly once in `deinit`.
final class ZlibDeflater {
    private var stream = z_stream()
    private var ready = false
    private var output = [UInt8](repeating: 0, count: 64 * 1024)

    init() {
        ready = warden_deflateInit(&stream, Z_DEFAULT_COMPRESSION) == Z_OK
    }

    deinit {
        if ready { deflateEnd(&stream) }
    }

    /// The compressed bytes of one payload, ending with the sync-flush marker; empty if zlib failed.
    func compress(_ input: [UInt8]) -> [UInt8] {
        guard ready else { return [] }
        var result: [UInt8] = []
        result.reserveCapacity(input.count / 3 + 16)
        var input = input
        let outputSize = output.count
        let failed: Bool = input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = uInt(inputBuffer.count)
            defer { stream.next_in = nil; stream.avail_in = 0 }
            return output.withUnsafeMutableBufferPointer { outputBuffer in
                repeat {
                    stream.next_out = outputBuffer.baseAddress
                    stream.avail_out = uInt(outputSize)
                    let status = deflate(&stream, Z_SYNC_FLUSH)
                    if status != Z_OK && status != Z_BUF_ERROR { return true }
                    let produced = outputSize - Int(stream.avail_out)
                    result.append(contentsOf: outputBuffer[0..<produced])
                } while stream.avail_out == 0
                return false
            }
        }
        return failed ? [] : result
    }
}
