import Foundation

/// A parsed Prometheus text exposition (format 0.0.4): `# HELP`, `# TYPE` and sample lines
/// `name{label="value",…} value [timestamp]`. Strict on purpose: a malformed line is an error, so a
/// test that parses `/metrics` also proves the exposition is well-formed.
struct PrometheusText: Sendable {
    struct Sample: Sendable, Hashable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Family: Sendable {
        var name: String
        var help: String?
        var type: String?
        var samples: [Sample] = []
    }

    struct Malformed: Error, CustomStringConvertible {
        var line: Int
        var reason: String
        var description: String { "metrics line \(line): \(reason)" }
    }

    private(set) var families: [String: Family] = [:]

    init(_ text: String) throws {
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                try comment(line, number: offset + 1)
            } else {
                var reader = LineReader(line, number: offset + 1)
                let sample = try reader.sample()
                let family = familyName(of: sample.name)
                families[family, default: Family(name: family)].samples.append(sample)
            }
        }
    }

    private mutating func comment(_ line: String, number: Int) throws {
        let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true).map(String.init)
        guard parts.count >= 3, parts[0] == "#", parts[1] == "HELP" || parts[1] == "TYPE" else { return }
        let name = parts[2]
        guard Self.isMetricName(name) else { throw Malformed(line: number, reason: "bad metric name \(name)") }
        let rest = parts.count > 3 ? parts[3] : ""
        if parts[1] == "HELP" {
            families[name, default: Family(name: name)].help = rest
        } else {
            let types: Set<String> = ["counter", "gauge", "histogram", "summary", "untyped"]
            guard types.contains(rest) else { throw Malformed(line: number, reason: "unknown type \(rest)") }
            guard families[name]?.type == nil else { throw Malformed(line: number, reason: "second TYPE for \(name)") }
            families[name, default: Family(name: name)].type = rest
        }
    }

    /// `x_bucket`, `x_sum` and `x_count` belong to histogram or summary `x` when it was declared.
    private func familyName(of sample: String) -> String {
        for suffix in ["_bucket", "_sum", "_count"] where sample.hasSuffix(suffix) {
            let base = String(sample.dropLast(suffix.count))
            if let type = families[base]?.type, type == "histogram" || type == "summary" { return base }
        }
        return sample
    }

    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic || first == "_" || first == ":" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == ":") }
    }

    // MARK: Reading

    func family(_ name: String) -> Family? { families[name] }

    /// Samples of a family whose labels include every pair of `labels`.
    func samples(_ family: String, sampleName: String? = nil, _ labels: [String: String] = [:]) -> [Sample] {
        (families[family]?.samples ?? []).filter { sample in
            (sampleName == nil || sample.name == sampleName) && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
    }

    /// The value of the one sample named `name` (`x`, or `x_bucket`/`x_sum`/`x_count` of a histogram)
    /// with exactly these labels, if present.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples(familyName(of: name), sampleName: name).first { $0.labels == labels }?.value
    }

    /// The sum over samples named `name` whose labels include `labels`.
    func total(_ name: String, _ labels: [String: String] = [:]) -> Double {
        samples(familyName(of: name), sampleName: name, labels).reduce(0) { $0 + $1.value }
    }

    var allSamples: [Sample] { families.values.flatMap(\.samples) }
}

/// Reads one sample line.
private struct LineReader {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private let number: Int

    init(_ line: String, number: Int) {
        scalars = Array(line.unicodeScalars)
        self.number = number
    }

    mutating func sample() throws -> PrometheusText.Sample {
        let name = readWhile { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == ":") }
        guard PrometheusText.isMetricName(name) else { throw failure("bad metric name") }
        var labels: [String: String] = [:]
        if peek == "{" {
            index += 1
            while peek != "}" {
                let label = readWhile { $0 != "=" && $0 != "}" && $0 != "," }
                guard PrometheusText.isMetricName(label), !label.contains(":"), peek == "=" else { throw failure("bad label name \(label)") }
                index += 1
                guard peek == "\"" else { throw failure("label value must be quoted") }
                index += 1
                let value = try quoted()
                guard labels[label] == nil else { throw failure("label \(label) twice") }
                labels[label] = value
                if peek == "," { index += 1 } else if peek != "}" { throw failure("expected , or }") }
            }
            index += 1
        }
        guard peek == " " else { throw failure("expected a space before the value") }
        skipSpaces()
        let text = readWhile { $0 != " " }
        guard let value = Self.number(text) else { throw failure("bad value \(text)") }
        skipSpaces()
        let timestamp = readWhile { $0 != " " }
        guard timestamp.isEmpty || Int64(timestamp) != nil else { throw failure("bad timestamp \(timestamp)") }
        guard index == scalars.count else { throw failure("trailing text") }
        return .init(name: name, labels: labels, value: value)
    }

    static func number(_ text: String) -> Double? {
        switch text {
        case "+Inf", "Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(text)
        }
    }

    private var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    private mutating func readWhile(_ accept: (Unicode.Scalar) -> Bool) -> String {
        var text = String.UnicodeScalarView()
        while let scalar = peek, accept(scalar) { text.append(scalar); index += 1 }
        return String(text)
    }

    private mutating func skipSpaces() { while peek == " " { index += 1 } }

    /// The rest of a quoted label value (after the opening quote), with `\\`, `\"` and `\n` unescaped.
    private mutating func quoted() throws -> String {
        var text = String.UnicodeScalarView()
        while let scalar = peek {
            index += 1
            switch scalar {
            case "\"": return String(text)
            case "\\":
                guard let next = peek else { throw failure("unfinished escape") }
                index += 1
                switch next {
                case "\\": text.append("\\")
                case "\"": text.append("\"")
                case "n": text.append("\n")
                default: throw failure("unknown escape \\\(next)")
                }
            default: text.append(scalar)
            }
        }
        throw failure("unterminated label value")
    }

    private func failure(_ reason: String) -> PrometheusText.Malformed { .init(line: number, reason: reason) }
}
