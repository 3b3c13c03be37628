/// A secret (bot token, app secret, admin token, OAuth access token). Its description and debug
/// description never show the value, so string interpolation into a log line or an error cannot leak it.
/// Read the value only where it goes on the wire: `secret.revealed`.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public let revealed: String
    public init(_ value: String) { self.revealed = value }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var isEmpty: Bool { revealed.isEmpty }
}
