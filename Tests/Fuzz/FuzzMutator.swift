// Structure-aware edits of valid JSON inputs for the bounded property loops that `swift test` runs
// beside the corpus replay (the libFuzzer targets in Fuzz/ search far longer). Linked into the test
// targets that replay a corpus (DiscordGatewayTests, WardenConfigTests, WardenServiceTests).

/// SplitMix64: every edited input can be reproduced from the seed the test prints.
struct FuzzRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }
}

enum FuzzMutator {
    static let tokens: [[UInt8]] = ["null", "true", "false", "[]", "{}", "\"\"", "0", "-1", "\"x\"", "1e999", "-0",
                                    "18446744073709551616", String(repeating: "9", count: 400), "\"\\u0000\"", "\"\\ud800\"",
                                    ",", ":", "\"", "\\", "{\"a\":", "]"].map { Array($0.utf8) }
    static let invalidUTF8: [[UInt8]] = [[0xC3], [0xFF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF], [0x00]]

    /// One to three edits of `input`; `other` is a second valid input for splices.
    static func mutate(_ input: [UInt8], other: [UInt8], rng: inout FuzzRandom) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<8, using: &rng) {
            case 0: bytes = Array(bytes.prefix(at))                                   // truncation
            case 1: if !bytes.isEmpty { bytes[at] ^= UInt8(1) << UInt8.random(in: 0...7, using: &rng) } // bit flip
            case 2:                                                                    // splice
                let cut = other.isEmpty ? 0 : Int.random(in: 0..<other.count, using: &rng)
                bytes = Array(bytes.prefix(at)) + other[cut...]
            case 3:                                                                    // deep nesting
                let depth = rng.pick([10, 65, 200, 600, 5_000])
                let open: UInt8 = Bool.random(using: &rng) ? UInt8(ascii: "[") : UInt8(ascii: "{")
                if open == UInt8(ascii: "[") {
                    bytes = Array(bytes.prefix(at)) + [UInt8](repeating: open, count: depth) + [UInt8](repeating: UInt8(ascii: "]"), count: depth) + bytes[at...]
                } else {
                    bytes = Array(bytes.prefix(at)) + Array(String(repeating: "{\"a\":", count: depth).utf8) + Array("1".utf8)
                        + [UInt8](repeating: UInt8(ascii: "}"), count: depth) + bytes[at...]
                }
            case 4:                                                                    // wrong type / huge number after a colon
                if let colon = bytes[at...].firstIndex(of: UInt8(ascii: ":")) {
                    let end = bytes[(colon + 1)...].firstIndex { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "}") } ?? bytes.count
                    bytes = Array(bytes[...colon]) + rng.pick(tokens) + bytes[end...]
                }
            case 5: bytes.insert(contentsOf: rng.pick(invalidUTF8), at: at)             // invalid UTF-8
            case 6: bytes.insert(contentsOf: rng.pick(tokens), at: at)                  // a stray token
            default: if !bytes.isEmpty { bytes.remove(at: at) }                         // a lost byte
            }
        }
        return bytes
    }
}
