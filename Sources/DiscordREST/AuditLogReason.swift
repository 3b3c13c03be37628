/// The `X-Audit-Log-Reason` header value: at most 512 characters of the reason (cut at a character
/// boundary, counted in Unicode scalars so that no counting of Discord's can exceed it), then
/// percent-encoded UTF-8 with every byte but the unreserved characters (A–Z a–z 0–9 - . _ ~) escaped.
public enum AuditLogReason {
    public static let maximumLength = 512

    /// The encoded header value, or nil for an empty reason (the header is then left out).
    public static func headerValue(_ reason: String) -> String? {
        let cut = truncated(reason.trimmingWhitespace())
        guard !cut.isEmpty else { return nil }
        return percentEncoded(cut)
    }

    /// The longest prefix of whole characters (grapheme clusters) with at most 512 Unicode scalars.
    static func truncated(_ text: String) -> String {
        guard text.unicodeScalars.count > maximumLength else { return text }
        var scalars = 0
        var end = text.startIndex
        for character in text {
            let size = character.unicodeScalars.count
            if scalars + size > maximumLength { break }
            scalars += size
            end = text.index(after: end)
        }
        return String(text[..<end])
    }

    static func percentEncoded(_ text: String) -> String {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
