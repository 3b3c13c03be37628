import CCurl
import CLibWebSockets
import CZlib
import Testing

/// Each C library links and runs: the shims and module maps are right.
@Suite struct CLibrariesSmokeTests {
    @Test func curlReportsItsVersionAndFeatures() throws {
        let version = String(cString: try #require(curl_version()))
        #expect(version.hasPrefix("libcurl/"))
        let info = try #require(curl_version_info(CURLVERSION_ELEVENTH))
        #expect(info.pointee.features & CURL_VERSION_SSL != 0, "libcurl must be built with TLS")
    }

    @Test func libwebsocketsReportsItsVersionAndPreHeadroom() throws {
        let version = String(cString: try #require(lws_get_library_version()))
        #expect(version.first?.isNumber == true)
        #expect(warden_lws_pre() >= 16)
    }

    @Test func zlibRoundTripsASyncFlushedStream() throws {
        let input = Array(String(repeating: "{\"op\":0,\"t\":\"GUILD_MEMBER_UPDATE\"}", count: 200).utf8)
        var deflater = z_stream()
        #expect(warden_deflateInit(&deflater, Z_DEFAULT_COMPRESSION) == Z_OK)
        defer { deflateEnd(&deflater) }
        var compressed = [UInt8](repeating: 0, count: 4096)
        var source = input
        let produced: Int = source.withUnsafeMutableBufferPointer { src in
            compressed.withUnsafeMutableBufferPointer { dst in
                deflater.next_in = src.baseAddress
                deflater.avail_in = UInt32(src.count)
                deflater.next_out = dst.baseAddress
                deflater.avail_out = UInt32(dst.count)
                let rc = deflate(&deflater, Z_SYNC_FLUSH)
                #expect(rc == Z_OK)
                return dst.count - Int(deflater.avail_out)
            }
        }
        let stream = Array(compressed[0..<produced])
        #expect(stream.suffix(4) == [0x00, 0x00, 0xFF, 0xFF])
        #expect(stream.count < input.count / 10)

        var inflater = z_stream()
        #expect(warden_inflateInit(&inflater) == Z_OK)
        defer { inflateEnd(&inflater) }
        var output = [UInt8](repeating: 0, count: input.count + 64)
        var compressedInput = stream
        let restored: Int = compressedInput.withUnsafeMutableBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in
                inflater.next_in = src.baseAddress
                inflater.avail_in = UInt32(src.count)
                inflater.next_out = dst.baseAddress
                inflater.avail_out = UInt32(dst.count)
                let rc = inflate(&inflater, Z_SYNC_FLUSH)
                #expect(rc == Z_OK)
                return dst.count - Int(inflater.avail_out)
            }
        }
        #expect(Array(output[0..<restored]) == input)
    }
}
