import Foundation
import Testing

/// The kept configuration corpus (Tests/Fuzz/Corpus/config) replayed through the libFuzzer target's
/// entry point, and a bounded loop of structure-aware edits of it (RELIABILITY.md).
@Suite struct ConfigFuzzRegressionTests {
    static func inputs(filePath: String = #filePath) throws -> [(name: String, bytes: [UInt8])] {
        let directory = URL(fileURLWithPath: filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/Corpus/config")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        return try names.map { ($0, Array(try Data(contentsOf: directory.appendingPathComponent($0)))) }
    }

    @Test func theCorpusReplaysCleanly() throws {
        let inputs = try Self.inputs()
        #expect(inputs.count >= 2)
        for input in inputs {
            switch ConfigFuzz.run(input.bytes) {
            case .accepted: #expect(input.name.hasPrefix("seed-") || input.name.hasPrefix("accept-"), "\(input.name) accepted")
            case .refused(let reason): #expect(input.name.hasPrefix("refuse-") && !reason.isEmpty, "\(input.name): \(reason)")
            }
        }
    }

    @Test func editedConfigurationsAreAcceptedOrRefusedWithAMessage() async throws {
        let seeds = try Self.inputs().filter { $0.name.hasPrefix("seed-") }.map(\.bytes)
        var rng = FuzzRandom(seed: 0xC0_4F16)
        var refused = 0
        for _ in 0..<1_500 {
            // Yields each round: a long loop would hold one of the cooperative pool's threads (two on a
            // 2-core machine) and stall every other test's waits.
            await Task.yield()
            let input = FuzzMutator.mutate(rng.pick(seeds), other: rng.pick(seeds), rng: &rng)
            try? Data(input).write(to: FileManager.default.temporaryDirectory.appendingPathComponent("warden-fuzz-config-last.bin"))
            if case .refused(let reason) = ConfigFuzz.run(input) {
                refused += 1
                #expect(!reason.isEmpty)
            }
        }
        #expect(refused > 500)
    }
}
