// Fuzz entry points of the gateway's input path, shared by the libFuzzer targets (Fuzz/, which links
// this very file) and the regression replay in `swift test` (FuzzRegressionTests). Each takes bytes
// chosen by an attacker and must return normally: a refused input is an outcome, not a crash. A
// broken invariant stops the process (`preconditionFailure`) so that libFuzzer records the input.
import CZlib
import DiscordGateway
import DiscordModels
import Foundation

/// What an entry point made of one input.
enum FuzzOutcome: Equatable, Sendable {
    case accepted
    case refused(String)
}

/// The zlib-stream inflater (`compress=zlib-stream`), two ways, chosen by the first byte:
/// - even: the rest is raw compressed bytes from a hostile peer, cut into messages at each `00 00 ff ff`
///   and every `1 + input[1] % 64` bytes; after an error the inflater is reset (a new connection) and
///   the next message fed, as the transport does.
/// - odd: the rest is plain text, one payload per line; each is deflated by a real `Z_SYNC_FLUSH`
///   deflater and fed in fragments: what the inflater returns must be exactly the text (round trip).
enum ZlibStreamFuzz {
    static let limits = ZlibStreamLimits(maxInflatedPayloadBytes: 64 << 10, maxBufferedCompressedBytes: 16 << 10)

    static func run(_ input: [UInt8]) -> FuzzOutcome {
        guard input.count >= 2 else { return .refused("too short") }
        let step = 1 + Int(input[1]) % 64
        let body = Array(input[2...])
        return input[0] % 2 == 0 ? hostile(body, step: step) : roundTrip(body, step: step)
    }

    private static func hostile(_ body: [UInt8], step: Int) -> FuzzOutcome {
        guard let inflater = try? ZlibStreamInflater(limits: limits) else { preconditionFailure("inflateInit failed") }
        var messages: [[UInt8]] = []
        var current: [UInt8] = []
        for byte in body {
            current.append(byte)
            let n = current.count
            if current.count == step || (n >= 4 && current[(n - 4)...] == [0x00, 0x00, 0xFF, 0xFF]) {
                messages.append(current)
                current.removeAll()
            }
        }
        if !current.isEmpty { messages.append(current) }
        var outcome = FuzzOutcome.accepted
        for message in messages {
            do {
                if let payload = try inflater.feed(message) {
                    precondition(payload.count <= limits.maxInflatedPayloadBytes, "payload over the limit")
                }
            } catch {
                outcome = .refused(error.description)
                // A failed stream stays failed until reset.
                do { _ = try inflater.feed([0x00, 0x00, 0xFF, 0xFF]); preconditionFailure("fed after failure") } catch {
                    precondition(error == .streamFailed, "a failed inflater must say so")
                }
                do { try inflater.reset() } catch { preconditionFailure("reset failed: \(error)") }
            }
        }
        return outcome
    }

    private static func roundTrip(_ body: [UInt8], step: Int) -> FuzzOutcome {
        guard let inflater = try? ZlibStreamInflater(limits: limits) else { preconditionFailure("inflateInit failed") }
        let deflater = SyncFlushDeflater()
        for line in body.split(separator: 0x0A, omittingEmptySubsequences: false) {
            let payload = Array(line)
            let compressed = deflater.deflate(payload)
            var inflated: [UInt8] = []
            var start = 0
            while start < compressed.count {
                let end = min(start + step * 8, compressed.count)
                do {
                    if let part = try inflater.feed(Array(compressed[start..<end])) { inflated += part }
                } catch {
                    preconditionFailure("a valid zlib-stream was refused: \(error)")
                }
                start = end
            }
            precondition(!inflater.hasPendingInput, "a complete payload left bytes pending")
            precondition(inflated == payload, "round trip changed the payload")
        }
        return .accepted
    }
}

/// A zlib deflater that ends every payload with `Z_SYNC_FLUSH`, as Discord's gateway does.
final class SyncFlushDeflater {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)

    init() {
        stream.initialize(to: z_stream())
        precondition(warden_deflateInit(stream, Z_DEFAULT_COMPRESSION) == Z_OK)
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    func deflate(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var input = input
        input.withUnsafeMutableBufferPointer { source in
            stream.pointee.next_in = source.baseAddress
            stream.pointee.avail_in = UInt32(source.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { out in
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = UInt32(out.count)
                    _ = CZlib.deflate(stream, Z_SYNC_FLUSH)
                    output += out[0..<(out.count - Int(stream.pointee.avail_out))]
                }
            } while stream.pointee.avail_out == 0
            stream.pointee.next_in = nil
        }
        return output
    }
}

/// The gateway payload decoder as the gateway client runs it (`GatewayPayloadDecoding`, the single-pass
/// `GatewayPayloadDecoder` with its error report). Invariant: whatever the fast decoder accepts,
/// Foundation's `Decodable` path accepts too, with the same value.
enum GatewayPayloadFuzz {
    static func run(_ input: [UInt8]) -> FuzzOutcome {
        switch GatewayPayloadDecoding().decode(input) {
        case .success(let message):
            let codable = try? JSONDecoder().decode(GatewayMessage.self, from: Data(input))
            precondition(codable == message, "the fast decoder and Foundation disagree")
            return .accepted
        case .failure(let failure):
            precondition(failure.byteCount == input.count)
            return .refused(failure.reason)
        }
    }
}
