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

extension WardenDemoTests {
    @Test func aStepThatDoesNotHappenFailsTheDemoWithOne() async throws {
        let lines = Lines()
        // Without the Server Members Intent the gateway refuses the session: the cache never fills.
        let options = WardenDemoOptions(members: 10, stepTimeout: .seconds(3), prepareDiscord: { $0.setMembersIntentEnabled(false) })
        let status = await WardenDemo(options: options, output: { lines.append($0) }).run()
        let text = lines.all.joined(separator: "\n")
        #expect(status == 1, "demo output:\n\(text)")
        #expect(text.contains("== Step \(WardenDemo.stepTitles[0])"))
        #expect(text.contains("✗ step failed: timed out after 3.0 seconds waiting for the member cache to fill"))
        #expect(text.contains("steps passed: 0/5"))
        #expect(!text.contains("== Step \(WardenDemo.stepTitles[1])"), "the script stops at the first failed step")
    }
}
