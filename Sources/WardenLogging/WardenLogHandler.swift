import Foundation
import Logging

/// How a log line looks.
public enum LogFormat: String, Sendable, Hashable, CaseIterable {
    /// `2026-05-01T12:00:00.000Z info warden.gateway: connected session=abc`
    case text
    /// One JSON object per line: `time`, `level`, `label`, `message`, then the metadata flattened
    /// (`{"a": {"b": 1}}` becomes `"a.b"`).
    case json
}

/// Warden's swift-log handler: formats each event as text or a JSON line, passes the message and
/// every metadata value through the shared ``Redactor``, and writes the line to a ``LogSink``.
public struct WardenLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public let label: String
    public let format: LogFormat
    let sink: any LogSink
    let redactor: Redactor
    let now: @Sendable () -> Date

    public init(label: String, level: Logger.Level = .info, format: LogFormat = .text, redactor: Redactor,
                sink: any LogSink = StandardErrorSink(), metadataProvider: Logger.MetadataProvider? = nil,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.redactor = redactor
        self.sink = sink
        self.metadataProvider = metadataProvider
        self.now = now
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }

        var fields: [(key: String, value: LogLineFields.Value)] = []
        fields.reserveCapacity(merged.count)
        for key in merged.keys.sorted() {
            LogLineFields.flatten(merged[key]!, key: key, redactor: redactor, into: &fields)
        }
        let message = redactor.redact(event.message.description)
        let error = event.error.map { redactor.redact(String(describing: $0)) }
        let time = ISO8601Time.format(now())
        let line: String
        switch format {
        case .text:
            line = LogLineFields.text(time: time, level: event.level, label: label, message: message, error: error, fields: fields)
        case .json:
            line = LogLineFields.json(time: time, level: event.level, label: label, message: message, error: error, fields: fields)
        }
        sink.write(line)
    }
}

/// Formatting of one line, shared by both formats.
enum LogLineFields {
    enum Value {
        case string(String)
        case array([String])
    }

    static let reservedKeys: Set<String> = ["time", "level", "label", "message", "error"]

    /// Nested dictionaries become dotted keys; arrays keep their elements (each flattened to text).
    static func flatten(_ value: Logger.Metadata.Value, key: String, redactor: Redactor,
                        into fields: inout [(key: String, value: Value)]) {
        switch value {
        case .string(let text):
            fields.append((key, .string(redactor.redact(text))))
        case .stringConvertible(let convertible):
            fields.append((key, .string(redactor.redact(convertible.description))))
        case .dictionary(let dictionary):
            for inner in dictionary.keys.sorted() {
                flatten(dictionary[inner]!, key: "\(key).\(inner)", redactor: redactor, into: &fields)
            }
        case .array(let elements):
            fields.append((key, .array(elements.map { redactor.redact(describe($0)) })))
        }
    }

    static func describe(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible): return convertible.description
        case .dictionary, .array: return value.description
        }
    }

    static func text(time: String, level: Logger.Level, label: String, message: String, error: String?,
                     fields: [(key: String, value: Value)]) -> String {
        var line = "\(time) \(level.rawValue) \(label): "
        appendEscapedText(message, to: &line)
        if let error {
            line += " error="
            appendTextValue(error, to: &line)
        }
        for (key, value) in fields {
            line += " \(key)="
            switch value {
            case .string(let text): appendTextValue(text, to: &line)
            case .array(let elements):
                line += "["
                for (index, element) in elements.enumerated() {
                    if index > 0 { line += ", " }
                    appendTextValue(element, to: &line)
                }
                line += "]"
            }
        }
        return line
    }

    /// A metadata value in text: bare when it is one plain word, quoted otherwise.
    static func appendTextValue(_ value: String, to line: inout String) {
        let plain = !value.isEmpty && value.utf8.allSatisfy { $0 > 0x20 && $0 != 0x22 && $0 != 0x5C && $0 != 0x7F && $0 != 0x2C && $0 != 0x5B && $0 != 0x5D }
        if plain {
            line += value
        } else {
            line += "\""
            appendEscapedText(value, to: &line, escapingQuotes: true)
            line += "\""
        }
    }

    /// Control characters escaped, so that one event is always one line (no forged lines).
    static func appendEscapedText(_ value: String, to line: inout String, escapingQuotes: Bool = false) {
        guard value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || (escapingQuotes && ($0 == 0x22 || $0 == 0x5C)) }) else {
            line += value
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            case "\"" where escapingQuotes: line += "\\\""
            case "\\" where escapingQuotes: line += "\\\\"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    line += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    line.unicodeScalars.append(scalar)
                }
            }
        }
    }

    static func json(time: String, level: Logger.Level, label: String, message: String, error: String?,
                     fields: [(key: String, value: Value)]) -> String {
        var line = "{\"time\":\"\(time)\",\"level\":\"\(level.rawValue)\",\"label\":"
        appendJSONString(label, to: &line)
        line += ",\"message\":"
        appendJSONString(message, to: &line)
        if let error {
            line += ",\"error\":"
            appendJSONString(error, to: &line)
        }
        for (key, value) in fields {
            line += ","
            appendJSONString(reservedKeys.contains(key) ? "metadata.\(key)" : key, to: &line)
            line += ":"
            switch value {
            case .string(let text): appendJSONString(text, to: &line)
            case .array(let elements):
                line += "["
                for (index, element) in elements.enumerated() {
                    if index > 0 { line += "," }
                    appendJSONString(element, to: &line)
                }
                line += "]"
            }
        }
        line += "}"
        return line
    }

    static func appendJSONString(_ value: String, to line: inout String) {
        line += "\""
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            line += value
        } else {
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": line += "\\\""
                case "\\": line += "\\\\"
                case "\n": line += "\\n"
                case "\r": line += "\\r"
                case "\t": line += "\\t"
                default:
                    if scalar.value < 0x20 {
                        let hex = String(scalar.value, radix: 16)
                        line += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    } else {
                        line.unicodeScalars.append(scalar)
                    }
                }
            }
        }
        line += "\""
    }
}

/// `2026-05-01T12:00:00.123Z`: ISO 8601, UTC, milliseconds. Computed directly (no formatter
/// object, no locale, no lock).
enum ISO8601Time {
    static func format(_ date: Date) -> String {
        let totalMilliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var days = totalMilliseconds / 86_400_000
        var milliseconds = totalMilliseconds % 86_400_000
        if milliseconds < 0 { milliseconds += 86_400_000; days -= 1 }
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        let hour = milliseconds / 3_600_000
        let minute = milliseconds / 60_000 % 60
        let second = milliseconds / 1000 % 60
        let millisecond = milliseconds % 1000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(millisecond, 3))Z"
    }

    /// The proleptic Gregorian date of a day count from 1970-01-01 (eras of 400 years).
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = daysSinceEpoch + 719_468 // days from 0000-03-01
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153 // March = 0
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
