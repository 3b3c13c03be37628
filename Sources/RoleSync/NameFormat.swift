/// A nickname format such as `[{corp_ticker}] {character_name}` (SPEC 1.3).
///
/// It knows only `{key}` placeholders with the keys below and `{{` / `}}` for literal braces.
/// Any other brace syntax (format specs, conversions, unknown keys, lone braces) is a configuration
/// error, found when the format is parsed, never at render time.
public struct NameFormat: Hashable, Sendable, CustomStringConvertible {
    /// The placeholders a format may use, as Alliance Auth names them.
    public enum Key: String, CaseIterable, Sendable, Hashable {
        case characterName = "character_name"
        case characterID = "character_id"
        case corpTicker = "corp_ticker"
        case corpName = "corp_name"
        case corpID = "corp_id"
        case allianceName = "alliance_name"
        case allianceID = "alliance_id"
        case allianceTicker = "alliance_ticker"
        case username
        case allianceOrCorpName = "alliance_or_corp_name"
        case allianceOrCorpTicker = "alliance_or_corp_ticker"
    }

    public enum Segment: Hashable, Sendable {
        case literal(String)
        case placeholder(Key)
    }

    /// Why a format string is not valid.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The format used for states without one of their own.
    public static let `default` = NameFormat(segments: [.placeholder(.characterName)], source: "{character_name}")

    public let segments: [Segment]
    /// The text the format was parsed from.
    public let source: String

    private init(segments: [Segment], source: String) {
        self.segments = segments
        self.source = source
    }

    public init(parsing source: String) throws(ParseError) {
        var segments: [Segment] = []
        var literal = ""
        var index = source.startIndex
        while index < source.endIndex {
            let character = source[index]
            let next = source.index(after: index)
            if character == "{" {
                if next < source.endIndex, source[next] == "{" {
                    literal.append("{")
                    index = source.index(after: next)
                    continue
                }
                guard let close = source[next...].firstIndex(of: "}") else {
                    throw ParseError(message: "unclosed '{' in name format \"\(source)\"")
                }
                let name = String(source[next..<close])
                guard let key = Key(rawValue: name) else {
                    let known = Key.allCases.map(\.rawValue).joined(separator: ", ")
                    if name.contains(":") || name.contains("!") || name.contains("[") || name.contains(".") {
                        throw ParseError(message: "name format \"\(source)\" uses \"{\(name)}\": only plain {key} placeholders are allowed (keys: \(known))")
                    }
                    throw ParseError(message: "name format \"\(source)\" uses unknown key \"{\(name)}\" (keys: \(known))")
                }
                if !literal.isEmpty { segments.append(.literal(literal)); literal = "" }
                segments.append(.placeholder(key))
                index = source.index(after: close)
            } else if character == "}" {
                guard next < source.endIndex, source[next] == "}" else {
                    throw ParseError(message: "lone '}' in name format \"\(source)\" (write '}}' for a literal brace)")
                }
                literal.append("}")
                index = source.index(after: next)
            } else {
                literal.append(character)
                index = next
            }
        }
        if !literal.isEmpty { segments.append(.literal(literal)) }
        self.init(segments: segments, source: source)
    }

    /// Substitutes the values; a missing value becomes "". Trimming and the 32-scalar cut are the
    /// caller's (RoleSync's text rules).
    public func render(_ values: [Key: String]) -> String {
        var out = ""
        for segment in segments {
            switch segment {
            case .literal(let text): out += text
            case .placeholder(let key): out += values[key] ?? ""
            }
        }
        return out
    }

    /// Substitutes the values given by `value` (called once per placeholder), without building a
    /// dictionary; a format that is a single placeholder returns the value itself, uncopied.
    public func render(_ value: (Key) -> String) -> String {
        if segments.count == 1, case .placeholder(let key) = segments[0] { return value(key) }
        var out = ""
        for segment in segments {
            switch segment {
            case .literal(let text): out += text
            case .placeholder(let key): out += value(key)
            }
        }
        return out
    }

    public var description: String { source }
}
