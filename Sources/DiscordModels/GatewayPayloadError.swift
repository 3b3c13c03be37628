/// Why `GatewayPayloadDecoder` refused a payload. Carries only a reason, a byte offset and (for a
/// missing field) a field name from Warden's own vocabulary: never any text of the payload itself.
public struct GatewayPayloadError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: Hashable, Sendable {
        /// The payload is larger than the decoder's `maximumPayloadSize`.
        case tooLarge(limit: Int)
        /// Objects and arrays are nested deeper than the decoder's `maximumDepth`.
        case tooDeep(limit: Int)
        /// The payload ends in the middle of a value.
        case unexpectedEnd
        /// A byte that is not valid JSON at this place.
        case unexpectedByte
        /// Something follows the top-level value.
        case trailingData
        /// A string with a bad escape, a lone surrogate, a control character or invalid UTF-8.
        case invalidString
        /// A number that does not fit the field (fraction for an integer, overflow, sign of an id).
        case invalidNumber
        /// A snowflake or permission string that is not a plain decimal number.
        case invalidDecimalString
        /// A value of the wrong JSON type for its field.
        case typeMismatch
        /// A required field is absent.
        case missingField(String)
    }

    public var reason: Reason
    /// Byte offset in the payload where the problem was found.
    public var offset: Int

    public init(_ reason: Reason, at offset: Int) { self.reason = reason; self.offset = offset }

    public var description: String {
        let what: String = switch reason {
        case .tooLarge(let limit): "payload larger than \(limit) bytes"
        case .tooDeep(let limit): "nesting deeper than \(limit)"
        case .unexpectedEnd: "unexpected end of payload"
        case .unexpectedByte: "unexpected byte"
        case .trailingData: "data after the payload"
        case .invalidString: "invalid string"
        case .invalidNumber: "number out of range for its field"
        case .invalidDecimalString: "not a decimal id or permission string"
        case .typeMismatch: "value of the wrong type"
        case .missingField(let name): "missing field \(name)"
        }
        return "gateway payload: \(what) at byte \(offset)"
    }
}
