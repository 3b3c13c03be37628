/// A Discord id: a 64-bit integer sent as a decimal string. Decodes from a string or a number,
/// always encodes as a string (JavaScript clients lose precision on large numbers).
public struct Snowflake: RawRepresentable, Hashable, Comparable, Sendable, Codable,
    CustomStringConvertible, ExpressibleByIntegerLiteral
{
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt64) { self.rawValue = value }

    /// Parses a decimal string; nil for anything else (empty, sign, spaces, overflow).
    public init?(_ text: some StringProtocol) {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let value = UInt64(text) else { return nil }
        self.rawValue = value
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            guard let value = Snowflake(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a snowflake: \(text.prefix(40))")
            }
            self = value
        } else if let number = try? container.decode(UInt64.self) {
            self.rawValue = number
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "a snowflake is a decimal string or a non-negative integer")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(String(rawValue))
    }

    public var description: String { String(rawValue) }

    /// Milliseconds since the Unix epoch at which the id was made.
    public var timestampMilliseconds: UInt64 { (rawValue >> 22) + 1_420_070_400_000 }

    public static func < (lhs: Snowflake, rhs: Snowflake) -> Bool { lhs.rawValue < rhs.rawValue }
}
