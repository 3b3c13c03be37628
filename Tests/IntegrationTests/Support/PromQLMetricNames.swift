/// The metric names a PromQL expression selects, found by a small tokenizer: identifiers that are not
/// followed by `(` (functions), not keywords or aggregation operators, and not label names (inside `{…}` and the
/// lists of `by`, `without`, `on`, `ignoring`, `group_left`, `group_right`). Strings, range and subquery
/// brackets, numbers and durations, and Grafana variables (`$instance`, `${…}`) are skipped.
enum PromQLMetricNames {
    /// Case-insensitive words that are never metric names: operators, modifiers, and the aggregation
    /// operators, whose grouping may come before their parenthesis (`sum by (le) (…)`).
    static let keywords: Set<String> = [
        "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
        "inf", "nan",
        "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
        "quantile", "limitk", "limit_ratio",
    ]
    /// Keywords followed by a parenthesised list of label names.
    static let labelLists: Set<String> = ["by", "without", "on", "ignoring", "group_left", "group_right"]

    struct Unbalanced: Error, CustomStringConvertible {
        var expression: String
        var description: String { "unbalanced quotes or brackets in \(expression)" }
    }

    static func names(in expression: String) throws -> Set<String> {
        let text = Array(expression.unicodeScalars)
        var names: Set<String> = []
        var i = 0

        func isIdentifierStart(_ c: Unicode.Scalar) -> Bool { c.isASCII && (c.properties.isAlphabetic || c == "_" || c == ":") }
        func isIdentifier(_ c: Unicode.Scalar) -> Bool { isIdentifierStart(c) || ("0"..."9").contains(c) }
        func skipSpaces(from start: Int) -> Int {
            var j = start
            while j < text.count, text[j].properties.isWhitespace { j += 1 }
            return j
        }
        /// The index after the string starting at `start` (a quote).
        func endOfString(_ start: Int) throws -> Int {
            let quote = text[start]
            var j = start + 1
            while j < text.count {
                if text[j] == "\\", quote != "`" { j += 2; continue }
                if text[j] == quote { return j + 1 }
                j += 1
            }
            throw Unbalanced(expression: expression)
        }
        /// The index after the bracket that closes the one at `start`; strings inside are skipped.
        func endOfGroup(_ start: Int) throws -> Int {
            let open = text[start]
            let close: Unicode.Scalar = open == "{" ? "}" : open == "[" ? "]" : ")"
            var depth = 0
            var j = start
            while j < text.count {
                switch text[j] {
                case "\"", "'", "`": j = try endOfString(j); continue
                case open: depth += 1
                case close:
                    depth -= 1
                    if depth == 0 { return j + 1 }
                default: break
                }
                j += 1
            }
            throw Unbalanced(expression: expression)
        }

        while i < text.count {
            let c = text[i]
            switch c {
            case "\"", "'", "`":
                i = try endOfString(i)
            case "{", "[":
                i = try endOfGroup(i)
            case "#":
                while i < text.count, text[i] != "\n" { i += 1 }
            case "$":
                i += 1
                if i < text.count, text[i] == "{" { i = try endOfGroup(i) } else { while i < text.count, isIdentifier(text[i]) { i += 1 } }
            case _ where ("0"..."9").contains(c) || (c == "." && i + 1 < text.count && ("0"..."9").contains(text[i + 1])):
                // Numbers and durations: 0.99, 1e3, 0x1f, 5m, 1h30m.
                while i < text.count, isIdentifier(text[i]) || text[i] == "." { i += 1 }
            case _ where isIdentifierStart(c):
                var j = i
                while j < text.count, isIdentifier(text[j]) { j += 1 }
                let word = String(String.UnicodeScalarView(text[i..<j]))
                let next = skipSpaces(from: j)
                let opensParenthesis = next < text.count && text[next] == "("
                if labelLists.contains(word.lowercased()) {
                    i = opensParenthesis ? try endOfGroup(next) : j
                } else if opensParenthesis || keywords.contains(word.lowercased()) {
                    i = j
                } else {
                    names.insert(word)
                    i = j
                }
            default:
                i += 1
            }
        }
        return names
    }
}
