import Foundation

/// Removes secrets from log text, whatever code logged them. Shared by every log handler: the
/// daemon registers each secret it holds (bot token, app secret, admin token when it loads the
/// configuration; an OAuth access token when it obtains one), and the redactor also masks, by
/// shape, anything that looks like a Discord bot token, any `Bot …` / `Bearer …` credential and the
/// value of a `token`, `access_token`, `client_secret`… field in JSON or form text.
///
/// Every masked span becomes ``replacement``. Text with nothing to mask is returned as it is,
/// without allocating: this runs on every log line.
public final class Redactor: @unchecked Sendable {
    // @unchecked Sendable: the only mutable state, `secrets`, is read and written under `lock`.
    private let lock = NSLock()
    private var secrets: [[UInt8]] = []

    /// What a masked span is replaced by (the same words `Secret` prints).
    public static let replacement = "<redacted>"
    /// Registered secrets shorter than this are ignored: masking every "abc" would make logs
    /// unreadable and hide nothing (real tokens are far longer).
    public static let minimumSecretLength = 6
    /// Credentials after `Bot ` / `Bearer ` and field values shorter than this are left alone, so
    /// that "Bot connected" stays readable.
    static let minimumCredentialLength = 12

    public init(secrets: [String] = []) {
        for secret in secrets { register(secret) }
    }

    /// Masks `secret` in every later log line. Thread-safe; registering twice is harmless.
    public func register(_ secret: String) {
        let bytes = Array(secret.utf8)
        guard bytes.count >= Self.minimumSecretLength else { return }
        lock.lock()
        defer { lock.unlock() }
        guard !secrets.contains(bytes) else { return }
        secrets.append(bytes)
        // Longest first, so a secret containing another is masked whole.
        secrets.sort { $0.count > $1.count }
    }

    /// Stops masking `secret` (an access token that was used and dropped need not be kept forever).
    public func unregister(_ secret: String) {
        let bytes = Array(secret.utf8)
        lock.lock()
        defer { lock.unlock() }
        secrets.removeAll { $0 == bytes }
    }

    /// How many secrets are registered.
    public var registeredCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return secrets.count
    }

    /// `text` with every secret and credential-shaped span replaced by ``replacement``.
    public func redact(_ text: String) -> String {
        lock.lock()
        let secrets = self.secrets
        lock.unlock()
        var text = text
        let spans = text.withUTF8 { bytes in Self.spans(in: bytes, secrets: secrets) }
        guard !spans.isEmpty else { return text }
        return text.withUTF8 { bytes in Self.replacing(spans, in: bytes) }
    }

    // MARK: Finding spans

    static func spans(in bytes: UnsafeBufferPointer<UInt8>, secrets: [[UInt8]]) -> [Range<Int>] {
        var spans: [Range<Int>] = []
        for secret in secrets { findOccurrences(of: secret, in: bytes, into: &spans) }
        findBotTokens(in: bytes, into: &spans)
        findSchemeCredentials(in: bytes, into: &spans)
        findFieldValues(in: bytes, into: &spans)
        return spans
    }

    static func findOccurrences(of needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, into spans: inout [Range<Int>]) {
        guard let first = needle.first, bytes.count >= needle.count else { return }
        var index = 0
        let last = bytes.count - needle.count
        while index <= last {
            if bytes[index] == first {
                var matched = true
                for offset in 1..<needle.count where bytes[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched {
                    spans.append(index..<index + needle.count)
                    index += needle.count
                    continue
                }
            }
            index += 1
        }
    }

    @inline(__always)
    static func isBase64URL(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x5F
    }

    @inline(__always)
    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
    }

    /// Characters of an opaque credential (RFC 6750 b64token plus a few).
    @inline(__always)
    static func isCredential(_ byte: UInt8) -> Bool {
        isBase64URL(byte) || byte == 0x2E || byte == 0x7E || byte == 0x2B || byte == 0x2F || byte == 0x3D
    }

    /// A Discord bot token: `A.B.C`, three base64url parts, A decoding to the bot's id (digits).
    static func findBotTokens(in bytes: UnsafeBufferPointer<UInt8>, into spans: inout [Range<Int>]) {
        let count = bytes.count
        var index = 0
        while index < count {
            guard isBase64URL(bytes[index]) else { index += 1; continue }
            let start = index
            while index < count, isBase64URL(bytes[index]) { index += 1 }
            let firstEnd = index
            // A part must not continue another token (`x.y.A.B.C` is checked from its own start).
            guard firstEnd - start >= 16, start == 0 || bytes[start - 1] != 0x2E,
                  index < count, bytes[index] == 0x2E else { continue }
            var cursor = index + 1
            let secondStart = cursor
            while cursor < count, isBase64URL(bytes[cursor]) { cursor += 1 }
            guard cursor - secondStart >= 4, cursor < count, bytes[cursor] == 0x2E else { continue }
            cursor += 1
            let thirdStart = cursor
            while cursor < count, isBase64URL(bytes[cursor]) { cursor += 1 }
            guard cursor - thirdStart >= 20,
                  decodesToDigits(UnsafeBufferPointer(rebasing: bytes[start..<firstEnd])) else { continue }
            spans.append(start..<cursor)
            index = cursor
        }
    }

    /// Whether base64url text (no padding) decodes to ASCII digits only.
    static func decodesToDigits(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard text.count % 4 != 1 else { return false }
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text {
            let value: UInt32
            switch byte {
            case 0x41...0x5A: value = UInt32(byte - 0x41)
            case 0x61...0x7A: value = UInt32(byte - 0x61 + 26)
            case 0x30...0x39: value = UInt32(byte - 0x30 + 52)
            case 0x2D: value = 62
            case 0x5F: value = 63
            default: return false
            }
            accumulator = (accumulator << 6) | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                let decoded = (accumulator >> UInt32(bits)) & 0xFF
                guard decoded >= 0x30, decoded <= 0x39 else { return false }
            }
        }
        return true
    }

    /// `Bot <credential>` and `Bearer <credential>` (any case for Bearer): the credential is masked.
    static func findSchemeCredentials(in bytes: UnsafeBufferPointer<UInt8>, into spans: inout [Range<Int>]) {
        let count = bytes.count
        var index = 0
        while index < count {
            let byte = bytes[index]
            guard byte == 0x42 || byte == 0x62 else { index += 1; continue } // B or b
            guard index == 0 || !isAlphanumeric(bytes[index - 1]) else { index += 1; continue }
            var schemeEnd: Int?
            if byte == 0x42, matches("Bot", at: index, in: bytes, ignoringCase: false) {
                schemeEnd = index + 3
            } else if matches("bearer", at: index, in: bytes, ignoringCase: true) {
                schemeEnd = index + 6
            }
            guard var cursor = schemeEnd, cursor < count, bytes[cursor] == 0x20 else { index += 1; continue }
            while cursor < count, bytes[cursor] == 0x20 { cursor += 1 }
            let credentialStart = cursor
            while cursor < count, isCredential(bytes[cursor]) { cursor += 1 }
            if cursor - credentialStart >= minimumCredentialLength {
                spans.append(credentialStart..<cursor)
            }
            index = max(cursor, index + 1)
        }
    }

    static let fieldNames: [[UInt8]] = ["token", "access_token", "refresh_token", "client_secret", "bot_token",
                                        "app_secret", "admin_token", "password"].map { Array($0.utf8) }

    /// The value of a credential field: `"token": "…"` in JSON, `client_secret=…` in a form.
    static func findFieldValues(in bytes: UnsafeBufferPointer<UInt8>, into spans: inout [Range<Int>]) {
        let count = bytes.count
        var index = 0
        while index < count {
            let byte = bytes[index]
            guard byte == 0x22 || byte == 0x3D else { index += 1; continue } // '"' or '='
            // Walk back over the field name before this quote or '='.
            var nameStart = index
            while nameStart > 0, isBase64URL(bytes[nameStart - 1]) { nameStart -= 1 }
            let name = UnsafeBufferPointer(rebasing: bytes[nameStart..<index])
            guard !name.isEmpty, fieldNames.contains(where: { $0.elementsEqual(name) }) else { index += 1; continue }
            var cursor = index + 1
            if byte == 0x22 {
                // JSON: the name was quoted; expect `: "value"`.
                guard nameStart > 0, bytes[nameStart - 1] == 0x22 else { index += 1; continue }
                while cursor < count, bytes[cursor] == 0x20 { cursor += 1 }
                guard cursor < count, bytes[cursor] == 0x3A else { index += 1; continue }
                cursor += 1
                while cursor < count, bytes[cursor] == 0x20 { cursor += 1 }
                guard cursor < count, bytes[cursor] == 0x22 else { index += 1; continue }
                cursor += 1
                let valueStart = cursor
                while cursor < count, bytes[cursor] != 0x22 {
                    cursor += bytes[cursor] == 0x5C ? 2 : 1
                }
                cursor = min(cursor, count)
                if cursor - valueStart >= minimumCredentialLength { spans.append(valueStart..<cursor) }
            } else {
                // Form or query: `name=value` up to `&`, space or quote.
                let valueStart = cursor
                while cursor < count, bytes[cursor] != 0x26, bytes[cursor] != 0x20, bytes[cursor] != 0x22 { cursor += 1 }
                if cursor - valueStart >= minimumCredentialLength { spans.append(valueStart..<cursor) }
            }
            index = max(cursor, index + 1)
        }
    }

    static func matches(_ word: StaticString, at index: Int, in bytes: UnsafeBufferPointer<UInt8>, ignoringCase: Bool) -> Bool {
        word.withUTF8Buffer { word in
            guard bytes.count - index >= word.count else { return false }
            for offset in 0..<word.count {
                var byte = bytes[index + offset]
                if ignoringCase, byte >= 0x41, byte <= 0x5A { byte += 0x20 }
                if byte != word[offset] { return false }
            }
            return true
        }
    }

    // MARK: Replacing

    static func replacing(_ spans: [Range<Int>], in bytes: UnsafeBufferPointer<UInt8>) -> String {
        let sorted = spans.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = []
        for span in sorted {
            if let last = merged.last, span.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, span.upperBound)
            } else {
                merged.append(span)
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var position = 0
        for span in merged {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[position..<span.lowerBound]))
            out.append(contentsOf: replacement.utf8)
            position = span.upperBound
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[position...]))
        // A span could end inside a multi-byte character only if a registered secret did; repair it.
        return String(decoding: out, as: UTF8.self)
    }
}
