/// The text rules Warden applies to every role name, reserved group name and nickname (SPEC 1.2).
///
/// - Names are compared by canonical equivalence: Swift's `String` `==` and hashing already do that
///   (the same as comparing NFC forms), so "Café" typed precomposed or decomposed is one name.
/// - A cut to N Unicode scalars never splits a grapheme cluster: it stops at the last cluster boundary
///   at or before N scalars. Whitespace (Unicode White_Space) is trimmed before the cut and again after
///   it, so a cut never leaves a trailing space and leading blanks never use up the budget. A cluster
///   counts as whitespace only when every scalar in it is White_Space, so trimming never splits one either.
/// - Reserved group names are compared lower-cased, after the same cut.
///
/// Alliance Auth instead slices raw code points (cutting through emoji) and compares raw code points.
public enum DiscordText {
    /// Discord's limit for a role name, in Unicode scalars.
    public static let roleNameLimit = 100
    /// Discord's limit for a nickname, in Unicode scalars.
    public static let nicknameLimit = 32

    /// A group or state name as a role name: trimmed and cut to 100 scalars.
    public static func roleName(_ name: String) -> String { cut(name, toScalars: roleNameLimit) }

    /// A formatted nickname: trimmed and cut to 32 scalars. Empty means "leave the nickname alone".
    public static func nickname(_ text: String) -> String { cut(text, toScalars: nicknameLimit) }

    /// The key a reserved group name and a role name are compared by: the role-name cut, lower-cased.
    /// Two names are "the same reserved name" when their keys are equal (`==`, canonical equivalence).
    public static func reservedKey(_ name: String) -> String { roleName(name).lowercased() }

    /// Trims whitespace, cuts to at most `limit` Unicode scalars at a grapheme cluster boundary, then
    /// trims the whitespace the cut exposed. Returns `text` itself (no copy) when nothing changes.
    public static func cut(_ text: String, toScalars limit: Int) -> String {
        isCut(text, toScalars: limit) ? text : slowCut(text, limit: max(0, limit))
    }

    /// Whether `cut(text, toScalars: limit)` is `text` itself. Fast for nearly every real name: the
    /// UTF-8 length bounds the scalar count, and a name whose first and last scalars are not
    /// White_Space needs no trimming.
    @inline(__always)
    static func isCut(_ text: String, toScalars limit: Int) -> Bool {
        let utf8 = text.utf8
        guard utf8.count <= limit else { return false }
        guard let first = utf8.first, let last = utf8.last else { return true }
        if first < 0x80, last < 0x80 { return !isASCIIWhitespace(first) && !isASCIIWhitespace(last) }
        return !hasEdgeWhitespace(text)
    }

    @inline(__always)
    static func isASCIIWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    private static func hasEdgeWhitespace(_ text: String) -> Bool {
        let scalars = text.unicodeScalars
        guard let first = scalars.first, let last = scalars.last else { return false }
        return first.properties.isWhitespace || last.properties.isWhitespace
    }

    private static func isBlank(_ character: Character) -> Bool {
        character.unicodeScalars.allSatisfy { $0.properties.isWhitespace }
    }

    private static func slowCut(_ text: String, limit: Int) -> String {
        var rest = Substring(text)
        while let first = rest.first, isBlank(first) { rest.removeFirst() }
        while let last = rest.last, isBlank(last) { rest.removeLast() }

        var scalarCount = 0
        var end = rest.startIndex
        var index = rest.startIndex
        while index < rest.endIndex {
            let next = rest.index(after: index)
            scalarCount += rest.unicodeScalars[index..<next].count
            if scalarCount > limit { break }
            end = next
            index = next
        }
        var kept = rest[..<end]
        while let last = kept.last, isBlank(last) { kept.removeLast() }
        return String(kept)
    }
}
