import Foundation
import DiscordGateway
import DiscordModels
import Testing

/// The kept fuzz corpus (seeds and every input that once crashed or broke an invariant), replayed
/// through the same entry points the libFuzzer targets run (Fuzz/, RELIABILITY.md). A regression
/// stops the test process with the entry point's precondition message.
enum FuzzCorpus {
    static func inputs(_ name: String, filePath: String = #filePath) throws -> [(name: String, bytes: [UInt8])] {
        let directory = URL(fileURLWithPath: filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/Corpus/\(name)")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        return try names.map { ($0, Array(try Data(contentsOf: directory.appendingPathComponent($0)))) }
    }

    /// Writes the input about to run where a crash leaves it (the process stops on a broken invariant):
    /// copy that file into Tests/Fuzz/Corpus/<name>/ as a regression once the cause is fixed.
    static func remember(_ input: [UInt8], _ name: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("warden-fuzz-\(name)-last.bin")
        try? Data(input).write(to: path)
    }
}

@Suite struct GatewayFuzzRegressionTests {
    @Test func theZlibStreamCorpusReplaysCleanly() throws {
        let inputs = try FuzzCorpus.inputs("zlib-stream")
        #expect(inputs.count >= 5)
        for input in inputs {
            let outcome = ZlibStreamFuzz.run(input.bytes)
            if case .refused(let reason) = outcome { #expect(!reason.isEmpty, "\(input.name)") }
            // Seeds and round trips are valid streams: accepted whole.
            if input.name.hasPrefix("seed-") || input.name.hasPrefix("crash-") {
                #expect(outcome == .accepted, "\(input.name): \(outcome)")
            }
        }
    }

    /// Edited compressed streams (hostile mode) and random texts (round-trip mode), bounded.
    @Test func editedStreamsNeverCrashAndRoundTripsHold() async throws {
        let seeds = try FuzzCorpus.inputs("zlib-stream").map(\.bytes).filter { $0.count > 2 && $0[0] % 2 == 0 }
        var rng = FuzzRandom(seed: 0x2_1B57)
        for round in 0..<600 {
            // Yields each round: a long loop would hold one of the cooperative pool's threads (two on a
            // 2-core machine) and stall every other test's waits.
            await Task.yield()
            var input: [UInt8]
            if round % 2 == 0 {
                let seed = rng.pick(seeds)
                input = Array(seed.prefix(2)) + FuzzMutator.mutate(Array(seed.dropFirst(2)), other: Array(rng.pick(seeds).dropFirst(2)), rng: &rng)
            } else {
                input = [1, UInt8.random(in: 0...255, using: &rng)]
                input += (0..<Int.random(in: 0...3_000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            }
            FuzzCorpus.remember(input, "zlib-stream")
            let outcome = ZlibStreamFuzz.run(input)
            if round % 2 == 1 { #expect(outcome == .accepted) }
        }
    }

    @Test func theGatewayPayloadCorpusReplaysCleanly() throws {
        let inputs = try FuzzCorpus.inputs("gateway-payload")
        #expect(inputs.count >= 10)
        for input in inputs {
            let outcome = GatewayPayloadFuzz.run(input.bytes)
            switch outcome {
            case .accepted: #expect(input.name.hasPrefix("seed-") || input.name.hasPrefix("accept-"), "\(input.name) accepted")
            case .refused(let reason): #expect(input.name.hasPrefix("refuse-") && !reason.isEmpty, "\(input.name): \(reason)")
            }
        }
    }

    /// The property the fuzzer checks, over structure-aware edits of the seeds, in a bounded loop:
    /// truncation, byte flips, splices, deep nesting, huge numbers, wrong types and invalid UTF-8.
    @Test func editedPayloadsNeverCrashOrDisagree() async throws {
        let seeds = try FuzzCorpus.inputs("gateway-payload").filter { $0.name.hasPrefix("seed-") }.map(\.bytes)
        var rng = FuzzRandom(seed: 0x9A7E_FA11)
        var refused = 0
        for _ in 0..<3_000 {
            await Task.yield()
            let input = FuzzMutator.mutate(rng.pick(seeds), other: rng.pick(seeds), rng: &rng)
            FuzzCorpus.remember(input, "gateway-payload")
            if case .refused = GatewayPayloadFuzz.run(input) { refused += 1 }
        }
        // Most edits break the payload; some leave it valid: both paths ran.
        #expect(refused > 1_000 && refused < 3_000)
    }
}

/// Deeply nested and oversized payloads through the path the gateway client runs: the fast decoder,
/// then (on refusal) Foundation reading the envelope for the report. Neither may recurse without bound.
@Suite struct GatewayHostilePayloadTests {
    @Test(arguments: [65, 10_000, 1_000_000])
    func deepNestingIsRefusedWithItsEnvelope(depth: Int) {
        for (open, close) in [("[", "]"), (#"{"a":"#, "}")] {
            let nested = String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth)
            let payload = Array(#"{"op":0,"t":"SOME_FUTURE_EVENT","s":9,"d":\#(nested)}"#.utf8)
            guard case .failure(let failure) = GatewayPayloadDecoding().decode(payload) else {
                Issue.record("accepted \(depth) levels"); return
            }
            #expect(failure.byteCount == payload.count)
            #expect(failure.opcode == nil || failure.opcode == 0)
            #expect(failure.reason.contains("deep") || failure.reason.contains("nest"), "\(failure.reason)")
            // Unterminated, and nested in the envelope itself.
            let open = Array(String(repeating: open, count: depth).utf8)
            #expect((try? GatewayPayloadDecoding().decode(open).get()) == nil)
        }
    }

    @Test func aPayloadOverTheDecodersLimitIsRefusedUnread() {
        let decoder = GatewayPayloadDecoder(maximumPayloadSize: 1 << 20)
        let padding = String(repeating: " ", count: 1 << 20)
        #expect(throws: GatewayPayloadError.self) { try decoder.decode(Array(#"{"op":11,"d":null}\#(padding)"#.utf8)) }
    }
}
