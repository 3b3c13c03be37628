/// A map from names to values, keyed by canonical equivalence (like `Dictionary<String, Value>`), with
/// a fast path for ASCII look-ups.
///
/// Swift's `Dictionary<String, _>` compares by canonical equivalence but hashes through a normalizing
/// path that costs ~60 ns per look-up; an audit looks up every wanted name of every member (600k
/// look-ups for 100k members), so ASCII names, nearly all of them, go through a small open-addressing
/// table keyed by their bytes instead. ASCII text is always in NFC, so for an ASCII name byte equality
/// *is* canonical equivalence, provided the table holds each key in the ASCII form it is canonically
/// equivalent to, if any (a role named with U+212A KELVIN SIGN is the name "K"). Other look-ups use
/// the `Dictionary`.
struct NameTable<Value: Sendable>: Sendable {
    private let byName: [String: Value]
    // Open addressing over ASCII keys: `slots` holds 1 + the key's number, 0 = empty. Key k's bytes
    // are `keyBytes[keyStarts[k] ..< keyStarts[k + 1]]` (flat, so a probe copies and retains nothing).
    private let slots: [Int32]
    private let keyHashes: [UInt64]
    private let keyStarts: [Int]
    private let keyBytes: [UInt8]
    private let values: [Value]

    init(_ byName: [String: Value]) {
        self.byName = byName
        var capacity = 16
        while capacity < byName.count * 4 { capacity *= 2 }
        var slots = [Int32](repeating: 0, count: capacity)
        var keyHashes: [UInt64] = []
        var keyStarts: [Int] = [0]
        var keyBytes: [UInt8] = []
        var values: [Value] = []
        for (name, value) in byName {
            guard let bytes = Self.asciiForm(of: name) else { continue }
            let hash = bytes.withUnsafeBytes { Self.hash($0) }
            var slot = Int(truncatingIfNeeded: hash) & (capacity - 1)
            while slots[slot] != 0 { slot = (slot + 1) & (capacity - 1) }
            keyHashes.append(hash)
            keyBytes.append(contentsOf: bytes)
            keyStarts.append(keyBytes.count)
            values.append(value)
            slots[slot] = Int32(values.count)
        }
        self.slots = slots
        self.keyHashes = keyHashes
        self.keyStarts = keyStarts
        self.keyBytes = keyBytes
        self.values = values
    }

    var isEmpty: Bool { byName.isEmpty }

    subscript(name: String) -> Value? {
        if byName.isEmpty { return nil }
        var handled = false
        var found: Value?
        _ = name.utf8.withContiguousStorageIfAvailable { buffer in
            let bytes = UnsafeRawBufferPointer(buffer)
            if Self.isASCII(bytes) {
                handled = true
                found = asciiValue(bytes)
            }
        }
        if handled { return found }
        return byName[name]
    }

    private func asciiValue(_ bytes: UnsafeRawBufferPointer) -> Value? {
        let hash = Self.hash(bytes)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let key = Int(slots[slot]) - 1
            if key < 0 { return nil }
            if keyHashes[key] == hash {
                let start = keyStarts[key]
                let end = keyStarts[key + 1]
                if end - start == bytes.count,
                   keyBytes.withUnsafeBytes({ Self.equal(UnsafeRawBufferPointer(rebasing: $0[start..<end]), bytes) }) {
                    return values[key]
                }
            }
            slot = (slot + 1) & mask
        }
    }

    /// The ASCII string canonically equivalent to `name`, if there is one. A string's NFC form is ASCII
    /// exactly when each of its scalars decomposes to a single ASCII scalar (ASCII characters have no
    /// decomposition, so no sequence composes into one), and Swift's `==` tells which scalars do.
    private static func asciiForm(of name: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(name.utf8.count)
        for scalar in name.unicodeScalars {
            if scalar.isASCII { bytes.append(UInt8(scalar.value)); continue }
            guard let ascii = asciiEquivalents[String(scalar)] else { return nil }
            bytes.append(ascii)
        }
        return bytes
    }

    /// Byte equality of two buffers of the same length, a word at a time.
    private static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        let count = a.count
        var index = 0
        while index + 8 <= count {
            if a.loadUnaligned(fromByteOffset: index, as: UInt64.self) != b.loadUnaligned(fromByteOffset: index, as: UInt64.self) {
                return false
            }
            index += 8
        }
        while index < count {
            if a[index] != b[index] { return false }
            index += 1
        }
        return true
    }

    private static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let count = bytes.count
        while index + 8 <= count {
            if bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            index += 8
        }
        while index < count {
            if bytes[index] & 0x80 != 0 { return false }
            index += 1
        }
        return true
    }

    /// A fast, non-cryptographic hash of a few dozen bytes (the keys are the operator's role names, and
    /// a collision only costs a probe).
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var index = 0
        let count = bytes.count
        while index + 8 <= count {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            hash = (hash ^ word) &* 0xFF51_AFD7_ED55_8CCD
            hash ^= hash >> 32
            index += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while index < count {
            tail |= UInt64(bytes[index]) << shift
            shift += 8
            index += 1
        }
        hash = (hash ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        return hash ^ (hash >> 29)
    }
}

/// The one-character ASCII strings; looking a single scalar up here (String hashing and `==` are
/// canonical) finds the ASCII character it is equivalent to, if any.
private let asciiEquivalents: [String: UInt8] = {
    var table: [String: UInt8] = [:]
    for byte in UInt8(0)...UInt8(127) { table[String(UnicodeScalar(byte))] = byte }
    return table
}()
