import Foundation
import Testing
import WardenDemo

/// `warden demo` end to end: the real daemon against DiscordFake, every narrated step happening for real.
@Suite(.serialized) struct WardenDemoTests {
    final class Lines: @unchecked Sendable {
        // Guarded by `lock`.
        private var lines: [String] = []
        private let lock = NSLock()
        func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
    }

    @Test func theDemoPlaysEveryStepAndExitsZero() async throws {
        let lines = Lines()
        let status = await WardenDemo(options: WardenDemoOptions(members: 50), output: { lines.append($0) }).run()
        let text = lines.all.joined(separator: "\n")
        #expect(status == 0, "demo output:\n\(text)")
        for title in WardenDemo.stepTitles {
            #expect(text.contains("== Step \(title)"), "missing step \(title)")
        }
        #expect(lines.all.filter { $0 == "   ✓ done" }.count == WardenDemo.stepTitles.count)
        #expect(text.contains("steps passed: 5/5"))
        #expect(text.contains("initial audit corrected"))
        #expect(text.contains("reverting manual role edit"), "the corrective request says why")
        #expect(text.contains("joined as \"[WYE] Nova Quell\""))
        #expect(text.contains("alert raised after"))
        #expect(text.contains("alert resolved after"))
        #expect(!text.contains("✗"))
    }
}
