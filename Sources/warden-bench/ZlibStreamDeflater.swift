import CZlib

/// Discord's side of zlib-stream: one deflate context for the connection, each payload ended with
/// Z_SYNC_FLUSH (so every message ends with 00 00 ff ff).
final class ZlibStreamDeflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    init() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = warden_deflateInit(stream, Z_DEFAULT_COMPRESSION)
        precondition(rc == Z_OK, "deflateInit failed: \(rc)")
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    func compress(_ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count / 4)
        payload.withUnsafeBufferPointer { input in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.pointee.avail_in = uInt(input.count)
            repeat {
                buffer.withUnsafeMutableBufferPointer { chunk in
                    stream.pointee.next_out = chunk.baseAddress
                    stream.pointee.avail_out = uInt(chunk.count)
                    let rc = deflate(stream, Z_SYNC_FLUSH)
                    precondition(rc == Z_OK || rc == Z_BUF_ERROR, "deflate failed: \(rc)")
                    out.append(contentsOf: chunk[0..<(chunk.count - Int(stream.pointee.avail_out))])
                }
            } while stream.pointee.avail_out == 0
        }
        return out
    }
}
