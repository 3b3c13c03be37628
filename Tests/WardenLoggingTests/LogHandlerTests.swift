import Foundation
import Logging
import Testing
@testable import WardenLogging

@Suite("Log handler")
struct LogHandlerTests {
    static let fixedTime = Date(timeIntervalSince1970: 1_780_000_000.123) // 2026-05-28T20:26:40.123Z

    func logger(_ format: LogFormat, sink: InMemoryLogSink, redactor: Redactor = Redactor(), level: Logger.Level = .info) -> Logger {
        Logger(label: "warden.test") { label in
            WardenLogHandler(label: label, level: level, format: format, redactor: redactor, sink: sink, now: { Self.fixedTime })
        }
    }

    @Test func timestampsAreISO8601UTCWithMilliseconds() {
        #expect(ISO8601Time.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(ISO8601Time.format(Self.fixedTime) == "2026-05-28T20:26:40.123Z")
        #expect(ISO8601Time.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
        #expect(ISO8601Time.format(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59.000Z")
    }

    @Test func textLinesCarryTimeLevelLabelMessageAndMetadata() {
        let sink = InMemoryLogSink()
        var log = logger(.text, sink: sink)
        log[metadataKey: "guild"] = "222"
        log.info("member enforced", metadata: ["member": "80351110224678912", "reason": "role added", "roles": ["a", "b"]])
        #expect(sink.lines == [#"2026-05-28T20:26:40.123Z info warden.test: member enforced guild=222 member=80351110224678912 reason="role added" roles=[a, b]"#])
    }

    @Test func oneEventIsAlwaysOneLine() {
        let sink = InMemoryLogSink()
        logger(.text, sink: sink).warning("first\nforged 2026-01-01T00:00:00.000Z critical: fake", metadata: ["k": "a\nb"])
        #expect(sink.lines.count == 1)
        #expect(!sink.lines[0].contains("\n"))
        #expect(sink.lines[0].contains(#"first\nforged"#))
    }

    @Test func jsonLinesAreObjectsWithFlattenedMetadata() throws {
        let sink = InMemoryLogSink()
        logger(.json, sink: sink).notice("role \"Fleet\" created", metadata: [
            "role": ["id": "9", "name": "Fleet"], "count": .stringConvertible(3), "message": "clash", "ids": ["1", "2"],
        ])
        #expect(sink.lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(sink.lines[0].utf8)) as? [String: Any])
        #expect(object["time"] as? String == "2026-05-28T20:26:40.123Z")
        #expect(object["level"] as? String == "notice")
        #expect(object["label"] as? String == "warden.test")
        #expect(object["message"] as? String == "role \"Fleet\" created")
        #expect(object["role.id"] as? String == "9")
        #expect(object["role.name"] as? String == "Fleet")
        #expect(object["count"] as? String == "3")
        #expect(object["metadata.message"] as? String == "clash", "a metadata key never replaces a standard field")
        #expect(object["ids"] as? [String] == ["1", "2"])
    }

    @Test func levelsBelowTheThresholdAreDropped() {
        let sink = InMemoryLogSink()
        let log = logger(.text, sink: sink, level: .notice)
        log.info("quiet")
        log.debug("quieter")
        log.error("loud")
        #expect(sink.lines.count == 1)
        #expect(sink.lines[0].contains(" error warden.test: loud"))
    }

    @Test func metadataProvidersAreMerged() {
        let sink = InMemoryLogSink()
        let provider = Logger.MetadataProvider { ["task": "update_all"] }
        let log = Logger(label: "p") { label in
            WardenLogHandler(label: label, format: .text, redactor: Redactor(), sink: sink, metadataProvider: provider, now: { Self.fixedTime })
        }
        log.info("x")
        #expect(sink.lines == ["2026-05-28T20:26:40.123Z info p: x task=update_all"])
    }

    @Test(arguments: LogFormat.allCases)
    func secretsAreRedactedInMessageAndEveryMetadataValue(_ format: LogFormat) {
        let sink = InMemoryLogSink()
        let redactor = Redactor()
        let registered = "registered-oauth-access-token-42"
        redactor.register(registered)
        let log = logger(format, sink: sink, redactor: redactor)
        log.info("token \(registered) and \(botShapedToken)", metadata: [
            "plain": "\(registered)",
            "nested": ["deeper": ["token": "\(botShapedToken)"]],
            "list": ["Authorization: Bot \(botShapedToken)", "ok"],
            "convertible": .stringConvertible(registered),
        ])
        log.error("request failed", error: FakeError(detail: "Authorization: Bearer \(registered)"))
        #expect(sink.lines.count == 2)
        #expect(!sink.text.contains(registered))
        #expect(!sink.text.contains(botShapedToken))
        #expect(!sink.text.contains("ODAzNTExMTAyMjQ2Nzg5MTIw"), "no part of the token is left")
        #expect(sink.text.contains(Redactor.replacement))
    }

    @Test func theStandardErrorSinkWritesWholeLines() {
        // Writing must not crash or block; what it wrote is outside the test's reach.
        StandardErrorSink().write("warden logging test line (ignore)")
    }
}

struct FakeError: Error, CustomStringConvertible {
    var detail: String
    var description: String { "FakeError(\(detail))" }
}
