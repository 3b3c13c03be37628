import CZlib
@testable import DiscordGateway
import Testing

/// A zlib-stream compressor like Discord's: one deflate context for a connection, each payload flushed
/// with Z_SYNC_FLUSH (so it ends with 00 00 ff ff).
final class StreamDeflater {
    private let stream: UnsafeMutablePointer<z_stream>

    init() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        precondition(warden_deflateInit(stream, Z_DEFAULT_COMPRESSION) == Z_OK)
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    func compress(_ text: String) -> [UInt8] { compress(Array(text.utf8)) }

    func compress(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        var source = input
        source.withUnsafeMutableBufferPointer { src in
            stream.pointee.next_in = src.baseAddress
            stream.pointee.avail_in = UInt32(src.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { dst in
                    stream.pointee.next_out = dst.baseAddress
                    stream.pointee.avail_out = UInt32(dst.count)
                    let rc = deflate(stream, Z_SYNC_FLUSH)
                    precondition(rc == Z_OK || rc == Z_BUF_ERROR)
                    return dst.count - Int(stream.pointee.avail_out)
                }
                output.append(contentsOf: chunk[0..<produced])
            } while stream.pointee.avail_out == 0
            stream.pointee.next_in = nil
        }
        return output
    }
}

@Suite struct ZlibStreamInflaterTests {
    @Test func oneContextInflatesSeveralPayloadsInARow() throws {
        let deflater = StreamDeflater()
        let inflater = try ZlibStreamInflater()
        let payloads = [
            #"{"op":10,"d":{"heartbeat_interval":41250},"s":null,"t":null}"#,
            #"{"op":11,"d":null,"s":null,"t":null}"#,
            #"{"op":0,"t":"GUILD_ROLE_DELETE","s":5,"d":{"guild_id":"1","role_id":"2"}}"#,
            #"{"op":0,"t":"GUILD_ROLE_DELETE","s":6,"d":{"guild_id":"1","role_id":"3"}}"#,
        ]
        var compressedSizes: [Int] = []
        for text in payloads {
            let message = deflater.compress(text)
            #expect(message.suffix(4) == [0x00, 0x00, 0xFF, 0xFF])
            compressedSizes.append(message.count)
            let inflated = try #require(try inflater.feed(message))
            #expect(String(decoding: inflated, as: UTF8.self) == text)
        }
        // Context takeover: the repeated shape compresses far better the second time.
        #expect(compressedSizes[3] < compressedSizes[2])
    }

    @Test func payloadSplitAcrossThreeMessagesIsBuffered() throws {
        let deflater = StreamDeflater()
        let inflater = try ZlibStreamInflater()
        let text = String(repeating: #"{"user":{"id":"80351110224678912","username":"someone"},"roles":["1","2"]},"#, count: 200)
        let message = deflater.compress("[" + text + "0]")
        let third = message.count / 3
        let parts = [Array(message[0..<third]), Array(message[third..<(2 * third)]), Array(message[(2 * third)...])]
        #expect(try inflater.feed(parts[0]) == nil)
        #expect(inflater.hasPendingInput)
        #expect(try inflater.feed(parts[1]) == nil)
        let inflated = try #require(try inflater.feed(parts[2]))
        #expect(String(decoding: inflated, as: UTF8.self) == "[" + text + "0]")
        #expect(!inflater.hasPendingInput)
        // And the context goes on after the split payload.
        let next = try #require(try inflater.feed(deflater.compress(#"{"op":11}"#)))
        #expect(String(decoding: next, as: UTF8.self) == #"{"op":11}"#)
    }

    @Test(arguments: [1, 2, 3])
    func aSuffixSplitAcrossMessagesEndsThePayload(tail: Int) throws {
        let deflater = StreamDeflater()
        let inflater = try ZlibStreamInflater()
        let message = deflater.compress(#"{"op":11,"d":null,"s":null,"t":null}"#)
        // The last message holds only the last `tail` bytes of `00 00 ff ff`.
        #expect(try inflater.feed(Array(message.dropLast(tail))) == nil)
        let inflated = try #require(try inflater.feed(Array(message.suffix(tail))))
        #expect(String(decoding: inflated, as: UTF8.self) == #"{"op":11,"d":null,"s":null,"t":null}"#)
        // The next payload is inflated alone, not glued to the previous one.
        let next = try #require(try inflater.feed(deflater.compress(#"{"op":0,"t":"X","s":2,"d":{}}"#)))
        #expect(String(decoding: next, as: UTF8.self) == #"{"op":0,"t":"X","s":2,"d":{}}"#)
    }

    @Test func largePayloadInflatesAcrossManyOutputChunks() throws {
        let deflater = StreamDeflater()
        let inflater = try ZlibStreamInflater()
        var text = #"{"op":0,"t":"GUILD_MEMBERS_CHUNK","s":3,"d":{"guild_id":"1","chunk_index":0,"chunk_count":1,"members":["#
        var i = 0
        while text.utf8.count < 500_000 {
            if i > 0 { text += "," }
            text += #"{"user":{"id":"\#(100_000_000_000 + i)","username":"member\#(i)","discriminator":"0"},"roles":["\#(i % 17)"],"joined_at":"2024-01-01T00:00:00Z"}"#
            i += 1
        }
        text += "]}}"
        let message = deflater.compress(text)
        let inflated = try #require(try inflater.feed(message))
        #expect(inflated.count == text.utf8.count)
        #expect(inflated.count > ZlibStreamInflater.chunkSize * 7)
        #expect(inflated == Array(text.utf8))
    }

    @Test func corruptInputIsATypedErrorAndTheStreamStaysFailedUntilReset() throws {
        let inflater = try ZlibStreamInflater()
        let garbage: [UInt8] = [0x12, 0x34, 0x56, 0x78, 0x9A, 0x00, 0x00, 0xFF, 0xFF]
        #expect(throws: ZlibStreamError.self) { try inflater.feed(garbage) }
        #expect(throws: ZlibStreamError.streamFailed) { try inflater.feed(garbage) }

        try inflater.reset()
        let deflater = StreamDeflater()
        let inflated = try #require(try inflater.feed(deflater.compress(#"{"op":7}"#)))
        #expect(String(decoding: inflated, as: UTF8.self) == #"{"op":7}"#)
    }

    @Test func corruptBytesInsideAValidStreamAreAnError() throws {
        let deflater = StreamDeflater()
        let inflater = try ZlibStreamInflater()
        _ = try inflater.feed(deflater.compress(#"{"op":10,"d":{"heartbeat_interval":41250}}"#))
        var message = deflater.compress(String(repeating: "abcdefgh", count: 100))
        for index in 0..<(message.count - 4) { message[index] ^= 0xA5 }
        #expect(throws: ZlibStreamError.self) { try inflater.feed(message) }
    }

    @Test func inflatedSizeIsBounded() throws {
        let deflater = StreamDeflater()
        let inflater = try ZlibStreamInflater(limits: ZlibStreamLimits(maxInflatedPayloadBytes: 100_000))
        // A small bomb: a megabyte of zeros compresses to about a kilobyte.
        let bomb = deflater.compress([UInt8](repeating: 0x30, count: 1_000_000))
        #expect(bomb.count < 10_000)
        #expect(throws: ZlibStreamError.payloadTooLarge(limit: 100_000)) { try inflater.feed(bomb) }
        #expect(throws: ZlibStreamError.streamFailed) { try inflater.feed(bomb) }
    }

    @Test func bufferedCompressedSizeIsBounded() throws {
        let inflater = try ZlibStreamInflater(limits: ZlibStreamLimits(maxBufferedCompressedBytes: 1000))
        #expect(try inflater.feed([UInt8](repeating: 1, count: 600)) == nil)
        #expect(throws: ZlibStreamError.compressedBufferTooLarge(limit: 1000)) {
            try inflater.feed([UInt8](repeating: 1, count: 600))
        }
        #expect(!inflater.hasPendingInput)
    }

    @Test func resetStartsANewConnectionContext() throws {
        let inflater = try ZlibStreamInflater()
        let first = StreamDeflater()
        _ = try inflater.feed(first.compress(#"{"op":10,"d":{"heartbeat_interval":41250}}"#))
        // A half-received payload of the old connection is dropped by reset.
        _ = try inflater.feed(Array(first.compress(#"{"op":11}"#).prefix(3)))
        try inflater.reset()
        #expect(!inflater.hasPendingInput)
        let second = StreamDeflater()
        let inflated = try #require(try inflater.feed(second.compress(#"{"op":10,"d":{"heartbeat_interval":1}}"#)))
        #expect(String(decoding: inflated, as: UTF8.self) == #"{"op":10,"d":{"heartbeat_interval":1}}"#)
    }
}
