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
        // One pass over the text; only four byte values start any further work.
        let count = bytes.count
        var index = 0
        while index < count {
            let byte = bytes[index]
            if byte == 0x2E { // '.'
                index = botToken(aroundDotAt: index, in: bytes, into: &spans)
            } else if byte == 0x42 || byte == 0x62 { // 'B' 'b'
                index = schemeCredential(at: index, in: bytes, into: &spans)
            } else if byte == 0x22 || byte == 0x3D { // '"' '='
                index = fieldValue(at: index, in: bytes, into: &spans)
            } else {
                index += 1
            }
        }
        return spans
    }

    /// Every occurrence of `needle`: `memchr` finds candidates for its first byte, `memcmp` checks them.
    static func findOccurrences(of needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, into spans: inout [Range<Int>]) {
        guard let first = needle.first, let base = bytes.baseAddress, bytes.count >= needle.count else { return }
        needle.withUnsafeBufferPointer { needle in
            var index = 0
            let last = bytes.count - needle.count
            while index <= last {
                guard let found = memchr(base + index, Int32(first), last - index + 1) else { return }
                let position = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                if memcmp(base + position, needle.baseAddress!, needle.count) == 0 {
                    spans.append(position..<position + needle.count)
                    index = position + needle.count
                } else {
                    index = position + 1
                }
            }
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
    /// Called at a dot; returns where the scan goes on.
    static func botToken(aroundDotAt dot: Int, in bytes: UnsafeBufferPointer<UInt8>, into spans: inout [Range<Int>]) -> Int {
        let count = bytes.count
        var start = dot
        while start > 0, isBase64URL(bytes[start - 1]) { start -= 1 }
        // The first part is at least 16 characters (a bot id is 17 to 20 digits, 24+ in base64).
        guard dot - start >= 16 else { return dot + 1 }
        var cursor = dot + 1
        let secondStart = cursor
        while cursor < count, isBase64URL(bytes[cursor]) { cursor += 1 }
        guard cursor - secondStart >= 4, cursor < count, bytes[cursor] == 0x2E else { return dot + 1 }
        cursor += 1
        let thirdStart = cursor
        while cursor < count, isBase64URL(bytes[cursor]) { cursor += 1 }
        guard cursor - thirdStart >= 20, decodesToDigits(UnsafeBufferPointer(rebasing: bytes[start..<dot])) else { return dot + 1 }
        spans.append(start..<cursor)
        return cursor
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
    /// Called at a 'B' or 'b'; returns where the scan goes on.
    static func schemeCredential(at index: Int, in bytes: UnsafeBufferPointer<UInt8>, into spans: inout [Range<Int>]) -> Int {
        let count = bytes.count
        guard index == 0 || !isAlphanumeric(bytes[index - 1]) else { return index + 1 }
        var schemeEnd: Int?
        if bytes[index] == 0x42, matches("Bot", at: index, in: bytes, ignoringCase: false) {
            schemeEnd = index + 3
        } else if matches("bearer", at: index, in: bytes, ignoringCase: true) {
            schemeEnd = index + 6
        }
        guard var cursor = schemeEnd, cursor < count, bytes[cursor] == 0x20 else { return index + 1 }
        while cursor < count, bytes[cursor] == 0x20 { cursor += 1 }
        let credentialStart = cursor
        var digits = 0
        while cursor < count, isCredential(bytes[cursor]) {
            if bytes[cursor] >= 0x30, bytes[cursor] <= 0x39 { digits += 1 }
            cursor += 1
        }
        // Random credentials hold digits; a long run of letters after "Bot " is a word
        // ("Bot missing_permissions …"), unless it is long enough to be a token anyway.
        let length = cursor - credentialStart
        guard length >= minimumCredentialLength, digits > 0 || length >= 32 else { return index + 1 }
        spans.append(credentialStart..<cursor)
        return cursor
    }

    static let fieldNames: [[UInt8]] = ["token", "access_token", "refresh_token", "client_secret", "bot_token",
                                        "app_secret", "admin_token", "password"].map { Array($0.utf8) }

    /// The value of a credential field: `"token": "…"` in JSON, `client_secret=…` in a form.
    /// Called at a '"' or '='; returns where the scan goes on.
    static func fieldValue(at index: Int, in bytes: UnsafeBufferPointer<UInt8>, into spans: inout [Range<Int>]) -> Int {
        let count = bytes.count
        let byte = bytes[index]
        // The field name is the run of name characters just before this quote or '='.
        var nameStart = index
        while nameStart > 0, index - nameStart <= 13, isBase64URL(bytes[nameStart - 1]) { nameStart -= 1 }
        guard index - nameStart >= 5, nameStart == 0 || !isBase64URL(bytes[nameStart - 1]) else { return index + 1 }
        let name = UnsafeBufferPointer(rebasing: bytes[nameStart..<index])
        guard fieldNames.contains(where: { $0.elementsEqual(name) }) else { return index + 1 }
        var cursor = index + 1
        let valueStart: Int
        if byte == 0x22 {
            // JSON: the name was quoted; expect `: "value"`.
            guard nameStart > 0, bytes[nameStart - 1] == 0x22 else { return index + 1 }
            while cursor < count, bytes[cursor] == 0x20 { cursor += 1 }
            guard cursor < count, bytes[cursor] == 0x3A else { return index + 1 }
            cursor += 1
            while cursor < count, bytes[cursor] == 0x20 { cursor += 1 }
            guard cursor < count, bytes[cursor] == 0x22 else { return index + 1 }
            cursor += 1
            valueStart = cursor
            while cursor < count, bytes[cursor] != 0x22 { cursor += bytes[cursor] == 0x5C ? 2 : 1 }
            cursor = min(cursor, count)
        } else {
            // Form or query: `name=value` up to `&`, space or quote.
            valueStart = cursor
            while cursor < count, bytes[cursor] != 0x26, bytes[cursor] != 0x20, bytes[cursor] != 0x22 { cursor += 1 }
        }
        guard cursor - valueStart >= minimumCredentialLength else { return index + 1 }
        spans.append(valueStart..<cursor)
        return cursor
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
