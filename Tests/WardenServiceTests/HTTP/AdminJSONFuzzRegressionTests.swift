import Foundation
import Testing

/// The kept admin API body corpus (Tests/Fuzz/Corpus/admin-json) replayed through the libFuzzer
/// target's entry point, and a bounded loop of structure-aware edits of it (RELIABILITY.md).
@Suite struct AdminJSONFuzzRegressionTests {
    static func inputs(filePath: String = #filePath) throws -> [(name: String, bytes: [UInt8])] {
        let directory = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/Corpus/admin-json")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        return try names.map { ($0, Array(try Data(contentsOf: directory.appendingPathComponent($0)))) }
    }

    @Test func theCorpusReplaysCleanly() throws {
        let inputs = try Self.inputs()
        #expect(inputs.count >= 6)
        for input in inputs {
            let outcomes = AdminJSONFuzz.run(input.bytes)
            #expect(outcomes.count == 5)
            #expect(outcomes.allSatisfy { !$0.isEmpty }, "\(input.name)")
            if input.name.hasPrefix("seed-") { #expect(outcomes.contains("ok"), "\(input.name): \(outcomes)") }
        }
    }

    @Test func editedBodiesAreAcceptedOrRefusedWith400() async throws {
        let seeds = try Self.inputs().filter { $0.name.hasPrefix("seed-") }.map(\.bytes)
        var rng = FuzzRandom(seed: 0xAD_3140)
        var refusals = 0
        for _ in 0..<1_500 {
            // Yields each round: a long loop would hold one of the cooperative pool's threads (two on a
            // 2-core machine) and stall every other test's waits.
            await Task.yield()
            let input = FuzzMutator.mutate(rng.pick(seeds), other: rng.pick(seeds), rng: &rng)
            try? Data(input).write(to: FileManager.default.temporaryDirectory.appendingPathComponent("warden-fuzz-admin-json-last.bin"))
            let outcomes = AdminJSONFuzz.run(input)
            refusals += outcomes.filter { $0 != "ok" }.count
            // A refusal names the body or a field, never echoes a value it could not read.
            #expect(outcomes.allSatisfy { !$0.isEmpty })
        }
        #expect(refusals > 1_500)
    }
}
