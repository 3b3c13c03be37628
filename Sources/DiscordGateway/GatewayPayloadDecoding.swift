#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import DiscordModels

/// Turns one gateway payload (JSON bytes, already inflated) into a `GatewayMessage`, once, with
/// DiscordModels' single-pass `GatewayPayloadDecoder` (the same values as `GatewayMessage`'s `Decodable`
/// conformance, about fifteen times faster on member chunks). A payload it refuses is reported with
/// what could be read of its envelope, never its body.
public struct GatewayPayloadDecoding: Sendable {
    private let decoder = GatewayPayloadDecoder()

    public init() {}

    /// Decodes one payload; on failure reports what could be read of its envelope.
    public func decode(_ payload: [UInt8]) -> Result<GatewayMessage, GatewayDecodeFailure> {
        do {
            return .success(try decoder.decode(payload))
        } catch {
            let envelope = try? JSONDecoder().decode(Envelope.self, from: Data(payload))
            return .failure(GatewayDecodeFailure(byteCount: payload.count, opcode: envelope?.op,
                                                 eventName: envelope?.t, sequence: envelope?.s,
                                                 reason: Self.describe(error)))
        }
    }

    private struct Envelope: Decodable {
        var op: Int?
        var s: Int?
        var t: String?
    }

    /// A short description of a decoding error, never quoting the payload.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return String(describing: error) }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "\(path(context)): missing key \(key.stringValue)"
        @unknown default:
            return String(describing: error)
        }
    }
}
