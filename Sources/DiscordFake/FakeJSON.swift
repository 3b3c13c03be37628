import Foundation

/// JSON encoding and decoding helpers of the fake.
enum FakeJSON {
    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        // The fake only encodes its own well-formed values; a failure here is a bug in the fake.
        guard let data = try? encoder.encode(value) else { preconditionFailure("DiscordFake: unencodable value") }
        return Array(data)
    }

    /// Parses untrusted JSON into a loose tree; nil when it is not valid JSON.
    static func parse(_ bytes: some Collection<UInt8>) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }

    static func string(_ value: some Encodable) -> String { String(decoding: encode(value), as: UTF8.self) }

    /// Writes a JSON string literal (quotes and escapes) for text built by hand.
    static func quoted(_ text: String) -> String { string(text) }
}
