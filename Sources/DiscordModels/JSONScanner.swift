/// A single-pass JSON reader over bytes the caller keeps alive. It reads values straight into Swift
/// types and skips everything else without building it, validating as it goes (RFC 8259 grammar,
/// escapes, UTF-8, nesting depth). Used only by `GatewayPayloadDecoder`.
struct JSONScanner {
    typealias Failure = GatewayPayloadError

    private let bytes: UnsafePointer<UInt8>
    private let count: Int
    private let maximumDepth: Int
    private(set) var position = 0
    private var depth = 0

    init(_ buffer: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
        // An empty buffer may have no base address; any non-nil pointer works since nothing is read.
        bytes = buffer.baseAddress ?? UnsafePointer(bitPattern: 1).unsafelyUnwrapped
        count = buffer.count
        self.maximumDepth = maximumDepth
    }

    /// Where a value starts, to come back to it (`rewind`).
    struct Mark { fileprivate var position: Int; fileprivate var depth: Int }
    var mark: Mark { Mark(position: position, depth: depth) }
    mutating func rewind(to mark: Mark) { position = mark.position; depth = mark.depth }

    func failure(_ reason: Failure.Reason) -> Failure { Failure(reason, at: position) }

    // MARK: Structure

    @inline(__always)
    private mutating func skipWhitespace() {
        while position < count {
            let byte = bytes[position]
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
            position += 1
        }
    }

    /// The next non-blank byte, not consumed.
    @inline(__always)
    mutating func peek() throws(Failure) -> UInt8 {
        skipWhitespace()
        guard position < count else { throw failure(.unexpectedEnd) }
        return bytes[position]
    }

    /// After the top-level value only whitespace may follow.
    mutating func expectEnd() throws(Failure) {
        skipWhitespace()
        guard position == count else { throw failure(.trailingData) }
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        guard depth <= maximumDepth else { throw failure(.tooDeep(limit: maximumDepth)) }
    }

    /// Consumes `{`; a value of another type is a type mismatch.
    mutating func beginObject() throws(Failure) {
        guard try peek() == UInt8(ascii: "{") else { throw failure(.typeMismatch) }
        try enter()
        position += 1
    }

    /// The next key of the object opened by `beginObject`, positioned on its value, or nil after `}`.
    /// `first` starts true for each object.
    @inline(__always)
    mutating func nextKey(_ first: inout Bool) throws(Failure) -> JSONKey? {
        var byte = try peek()
        if first {
            first = false
            if byte == UInt8(ascii: "}") { position += 1; depth -= 1; return nil }
        } else if byte == UInt8(ascii: ",") {
            position += 1
            byte = try peek()
        } else if byte == UInt8(ascii: "}") {
            position += 1; depth -= 1; return nil
        } else {
            throw failure(.unexpectedByte)
        }
        guard byte == UInt8(ascii: "\"") else { throw failure(.unexpectedByte) }
        let key = try readKey()
        guard try peek() == UInt8(ascii: ":") else { throw failure(.unexpectedByte) }
        position += 1
        return key
    }

    /// Consumes `[`; a value of another type is a type mismatch.
    mutating func beginArray() throws(Failure) {
        guard try peek() == UInt8(ascii: "[") else { throw failure(.typeMismatch) }
        try enter()
        position += 1
    }

    /// True when another element follows (positioned on it), false after `]`. After a comma the
    /// element's reader refuses a `]`, so `[1,]` is an error.
    @inline(__always)
    mutating func nextElement(_ first: inout Bool) throws(Failure) -> Bool {
        let byte = try peek()
        if first {
            first = false
            if byte == UInt8(ascii: "]") { position += 1; depth -= 1; return false }
            return true
        }
        if byte == UInt8(ascii: ",") { position += 1; return true }
        if byte == UInt8(ascii: "]") { position += 1; depth -= 1; return false }
        throw failure(.unexpectedByte)
    }

    /// Consumes `null` if it is next.
    @inline(__always)
    mutating func consumeNull() throws(Failure) -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let length = word.utf8CodeUnitCount
        guard count - position >= length else { throw failure(.unexpectedEnd) }
        let expected = word.utf8Start
        // All literals are 4 or 5 bytes: compare the first four as one word, then the rest.
        let head = UnsafeRawPointer(bytes + position).loadUnaligned(as: UInt32.self)
        let wanted = UnsafeRawPointer(expected).loadUnaligned(as: UInt32.self)
        guard head == wanted else { throw failure(.unexpectedByte) }
        for index in 4..<length where bytes[position + index] != expected[index] {
            throw Failure(.unexpectedByte, at: position + index)
        }
        position += length
    }

    // MARK: Skipping

    /// Validates and steps over one value of any shape without building it.
    mutating func skipValue() throws(Failure) {
        switch try peek() {
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "{"):
            try beginObject()
            var first = true
            while try nextKey(&first) != nil { try skipValue() }
        case UInt8(ascii: "["):
            try beginArray()
            var first = true
            while try nextElement(&first) { try skipValue() }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try scanNumber()
        default: throw failure(.unexpectedByte)
        }
    }

    // MARK: Strings

    /// The index of the first byte at or after `index` that ends the plain part of a string: a quote,
    /// a backslash, a control character or a non-ASCII byte (or `count`). Reads eight bytes at a time.
    @inline(__always)
    private func plainStringEnd(from index: Int) -> Int {
        var index = index
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while index + 8 <= count {
            let word = UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self)
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            // A byte is flagged when it is zero after the xor, below 0x20, or has its high bit set.
            let flags = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word) | word
            let flagged = flags & highs
            if flagged != 0 {
                #if _endian(little)
                // Borrows only run upwards, so the lowest flag marks exactly the first such byte.
                return index + flagged.trailingZeroBitCount >> 3
                #else
                break
                #endif
            }
            index += 8
        }
        while index < count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80 { return index }
            index += 1
        }
        return index
    }

    /// Steps over a string, validating escapes and UTF-8.
    private mutating func skipString() throws(Failure) {
        position += 1
        var index = position
        while true {
            index = plainStringEnd(from: index)
            guard index < count else { throw Failure(.unexpectedEnd, at: index) }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { position = index + 1; return }
            if byte == UInt8(ascii: "\\") {
                index = try unescape(at: index) { _ in }
            } else if byte < 0x20 {
                throw Failure(.invalidString, at: index)
            } else if byte < 0x80 {
                index += 1
            } else {
                index = try validateUTF8(at: index)
            }
        }
    }

    /// Reads a string value; a value of another type is a type mismatch.
    mutating func readString() throws(Failure) -> String {
        guard try peek() == UInt8(ascii: "\"") else { throw failure(.typeMismatch) }
        position += 1
        let start = position
        var index = start
        while true {
            index = plainStringEnd(from: index)
            guard index < count else { throw Failure(.unexpectedEnd, at: index) }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") { return try readEscapedString(from: start) }
            if byte < 0x20 { throw Failure(.invalidString, at: index) }
            index = byte < 0x80 ? index + 1 : try validateUTF8(at: index)
        }
        position = index + 1
        // Validated above, so decoding repairs nothing.
        return String(decoding: UnsafeBufferPointer(start: bytes + start, count: index - start), as: UTF8.self)
    }

    /// The slow path for strings with escapes: rebuilds the UTF-8 bytes.
    private mutating func readEscapedString(from start: Int) throws(Failure) -> String {
        let utf8 = try readEscapedBytes(from: start)
        return String(decoding: utf8, as: UTF8.self)
    }

    private mutating func readEscapedBytes(from start: Int) throws(Failure) -> [UInt8] {
        var utf8: [UInt8] = []
        var index = start
        while true {
            guard index < count else { throw Failure(.unexpectedEnd, at: index) }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { position = index + 1; return utf8 }
            if byte == UInt8(ascii: "\\") {
                index = try unescape(at: index) { utf8.append($0) }
            } else if byte < 0x20 {
                throw Failure(.invalidString, at: index)
            } else {
                let next = byte < 0x80 ? index + 1 : try validateUTF8(at: index)
                utf8.append(contentsOf: UnsafeBufferPointer(start: bytes + index, count: next - index))
                index = next
            }
        }
    }

    /// Decodes the escape starting at the backslash at `index`, hands its UTF-8 bytes to `emit`,
    /// and returns the index after it.
    @inline(__always)
    private func unescape(at index: Int, _ emit: (UInt8) -> Void) throws(Failure) -> Int {
        guard index + 1 < count else { throw Failure(.unexpectedEnd, at: index) }
        switch bytes[index + 1] {
        case UInt8(ascii: "\""): emit(0x22)
        case UInt8(ascii: "\\"): emit(0x5C)
        case UInt8(ascii: "/"): emit(0x2F)
        case UInt8(ascii: "b"): emit(0x08)
        case UInt8(ascii: "f"): emit(0x0C)
        case UInt8(ascii: "n"): emit(0x0A)
        case UInt8(ascii: "r"): emit(0x0D)
        case UInt8(ascii: "t"): emit(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4(at: index + 2)
            var next = index + 6
            if scalar >= 0xD800 && scalar <= 0xDBFF {
                // A high surrogate must be followed by an escaped low surrogate.
                guard next + 1 < count, bytes[next] == UInt8(ascii: "\\"), bytes[next + 1] == UInt8(ascii: "u") else {
                    throw Failure(.invalidString, at: index)
                }
                let low = try hex4(at: next + 2)
                guard low >= 0xDC00 && low <= 0xDFFF else { throw Failure(.invalidString, at: next) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                next += 6
            } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                throw Failure(.invalidString, at: index)
            }
            encodeUTF8(scalar, emit)
            return next
        default:
            throw Failure(.invalidString, at: index)
        }
        return index + 2
    }

    private func hex4(at index: Int) throws(Failure) -> UInt32 {
        guard index + 4 <= count else { throw Failure(.unexpectedEnd, at: index) }
        var value: UInt32 = 0
        for offset in 0..<4 {
            let byte = bytes[index + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte &- UInt8(ascii: "A") &+ 10
            default: throw Failure(.invalidString, at: index + offset)
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    @inline(__always)
    private func encodeUTF8(_ scalar: UInt32, _ emit: (UInt8) -> Void) {
        switch scalar {
        case ..<0x80:
            emit(UInt8(scalar))
        case ..<0x800:
            emit(UInt8(0xC0 | scalar >> 6)); emit(UInt8(0x80 | scalar & 0x3F))
        case ..<0x10000:
            emit(UInt8(0xE0 | scalar >> 12)); emit(UInt8(0x80 | scalar >> 6 & 0x3F)); emit(UInt8(0x80 | scalar & 0x3F))
        default:
            emit(UInt8(0xF0 | scalar >> 18)); emit(UInt8(0x80 | scalar >> 12 & 0x3F))
            emit(UInt8(0x80 | scalar >> 6 & 0x3F)); emit(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Validates the multi-byte UTF-8 sequence whose lead byte is at `index` (Unicode table 3-7:
    /// no overlong forms, no surrogates, nothing above U+10FFFF) and returns the index after it.
    private func validateUTF8(at index: Int) throws(Failure) -> Int {
        let lead = bytes[index]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw Failure(.invalidString, at: index)
        }
        guard index + length <= count else { throw Failure(.unexpectedEnd, at: index) }
        let second = bytes[index + 1]
        guard second >= low && second <= high else { throw Failure(.invalidString, at: index) }
        for offset in 2..<max(length, 2) where bytes[index + offset] & 0xC0 != 0x80 {
            throw Failure(.invalidString, at: index)
        }
        return index + length
    }

    /// Reads a key (the opening quote is next). Keys without escapes point into the payload; a key
    /// with escapes is decoded and replaced by the same name in `JSONKey.known`, or by no name.
    private mutating func readKey() throws(Failure) -> JSONKey {
        position += 1
        let start = position
        var index = start
        while true {
            index = plainStringEnd(from: index)
            guard index < count else { throw Failure(.unexpectedEnd, at: index) }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") { return JSONKey(interning: try readEscapedBytes(from: start)) }
            if byte < 0x20 { throw Failure(.invalidString, at: index) }
            index = byte < 0x80 ? index + 1 : try validateUTF8(at: index)
        }
        position = index + 1
        return JSONKey(start: bytes + start, count: index - start)
    }

    // MARK: Literals and numbers

    mutating func readBool() throws(Failure) -> Bool {
        switch try peek() {
        case UInt8(ascii: "t"): try literal("true"); return true
        case UInt8(ascii: "f"): try literal("false"); return false
        case UInt8(ascii: "n"), UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "-"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            throw failure(.typeMismatch)
        default: throw failure(.unexpectedByte)
        }
    }

    /// A number's place in the payload and what the scan learnt about it.
    struct Number {
        var start: Int
        var end: Int
        var negative: Bool
        /// The integer digits as a UInt64, when there is no fraction or exponent and they fit.
        var plainValue: UInt64?
    }

    /// Scans a JSON number (the grammar of RFC 8259 section 6).
    private mutating func scanNumber() throws(Failure) -> Number {
        let start = position
        var index = position
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < count else { throw Failure(.unexpectedEnd, at: index) }
        var value: UInt64 = 0
        var overflow = false
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if bytes[index] >= UInt8(ascii: "1") && bytes[index] <= UInt8(ascii: "9") {
            while index < count, bytes[index] &- UInt8(ascii: "0") < 10 {
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(bytes[index] &- UInt8(ascii: "0")))
                value = sum
                overflow = overflow || o1 || o2
                index += 1
            }
        } else {
            throw Failure(.unexpectedByte, at: index)
        }
        var plain = true
        if index < count, bytes[index] == UInt8(ascii: ".") {
            plain = false
            index += 1
            index = try digits(from: index)
        }
        if index < count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            plain = false
            index += 1
            if index < count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            index = try digits(from: index)
        }
        position = index
        return Number(start: start, end: index, negative: negative, plainValue: plain && !overflow ? value : nil)
    }

    /// One or more digits from `index`; returns the index after them.
    private func digits(from index: Int) throws(Failure) -> Int {
        guard index < count else { throw Failure(.unexpectedEnd, at: index) }
        guard bytes[index] &- UInt8(ascii: "0") < 10 else { throw Failure(.unexpectedByte, at: index) }
        var index = index + 1
        while index < count, bytes[index] &- UInt8(ascii: "0") < 10 { index += 1 }
        return index
    }

    private mutating func number() throws(Failure) -> Number {
        let byte = try peek()
        guard byte == UInt8(ascii: "-") || byte &- UInt8(ascii: "0") < 10 else {
            throw failure(byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[")
                || byte == UInt8(ascii: "t") || byte == UInt8(ascii: "f") || byte == UInt8(ascii: "n")
                ? .typeMismatch : .unexpectedByte)
        }
        return try scanNumber()
    }

    /// An integer field. Like Foundation's JSONDecoder, a number with a fraction or exponent is
    /// accepted when its value is an exact integer in range (`1.0`, `1e2`), and rejected otherwise.
    mutating func readInt() throws(Failure) -> Int {
        let number = try number()
        let (magnitude, negative) = try integerMagnitude(number)
        if negative {
            guard magnitude <= UInt64(Int.max) + 1 else { throw Failure(.invalidNumber, at: number.start) }
            return magnitude == UInt64(Int.max) + 1 ? Int.min : -Int(magnitude)
        }
        guard magnitude <= UInt64(Int.max) else { throw Failure(.invalidNumber, at: number.start) }
        return Int(magnitude)
    }

    /// An unsigned 64-bit field: ids and permissions sent as numbers. `-0` is zero.
    mutating func readUInt64() throws(Failure) -> UInt64 {
        let number = try number()
        let (magnitude, negative) = try integerMagnitude(number)
        guard !negative || magnitude == 0 else { throw Failure(.invalidNumber, at: number.start) }
        return magnitude
    }

    private func integerMagnitude(_ number: Number) throws(Failure) -> (UInt64, negative: Bool) {
        if let plain = number.plainValue { return (plain, number.negative) }
        return (try exactInteger(number), number.negative)
    }

    /// The exact integer value of a number with a fraction, an exponent or many digits, or an error
    /// when it is not an integer or does not fit 64 bits.
    private func exactInteger(_ number: Number) throws(Failure) -> UInt64 {
        var index = number.negative ? number.start + 1 : number.start
        // Significant digits (without leading zeros) and the power of ten that scales them.
        // Zeros are held back until a non-zero digit follows, so trailing zeros are never stored.
        // More than 20 significant digits is either a fraction or beyond 64 bits: refused at once,
        // which also bounds the work for a hostile number of any length.
        var significand: [UInt8] = []
        var heldZeros = 0
        var scale = 0
        var inFraction = false
        while index < number.end {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") { inFraction = true; index += 1; continue }
            if byte | 0x20 == UInt8(ascii: "e") { break }
            if byte == UInt8(ascii: "0") {
                if !significand.isEmpty { heldZeros += 1 }
            } else {
                guard significand.count + heldZeros < 20 else { throw Failure(.invalidNumber, at: number.start) }
                significand.append(contentsOf: repeatElement(0, count: heldZeros))
                significand.append(byte &- UInt8(ascii: "0"))
                heldZeros = 0
            }
            if inFraction { scale -= 1 }
            index += 1
        }
        scale += heldZeros
        if index < number.end {
            index += 1
            var exponentNegative = false
            if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            var exponent = 0
            while index < number.end {
                // Beyond any useful size the value is either zero or out of range; stop counting.
                if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[index] &- UInt8(ascii: "0")) }
                index += 1
            }
            scale += exponentNegative ? -exponent : exponent
        }
        if significand.isEmpty { return 0 }
        guard scale >= 0, significand.count + scale <= 20 else { throw Failure(.invalidNumber, at: number.start) }
        var value: UInt64 = 0
        for digit in significand + repeatElement(0, count: scale) {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
            guard !o1 && !o2 else { throw Failure(.invalidNumber, at: number.start) }
            value = sum
        }
        return value
    }

    /// A floating-point field. Out-of-range values (overflow to infinity, underflow to zero) are refused.
    mutating func readDouble() throws(Failure) -> Double {
        let number = try number()
        let text = String(decoding: UnsafeBufferPointer(start: bytes + number.start, count: number.end - number.start),
                          as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw Failure(.invalidNumber, at: number.start) }
        if value == 0 {
            var index = number.start
            while index < number.end, bytes[index] | 0x20 != UInt8(ascii: "e") {
                if bytes[index] &- UInt8(ascii: "1") < 9 { throw Failure(.invalidNumber, at: number.start) }
                index += 1
            }
        }
        return value
    }

    // MARK: Discord scalars

    /// A snowflake: a decimal string, or a non-negative integer number.
    @inline(__always)
    mutating func readSnowflake() throws(Failure) -> Snowflake {
        if try peek() == UInt8(ascii: "\"") { return Snowflake(rawValue: try readDecimalString()) }
        return Snowflake(rawValue: try readUInt64())
    }

    /// Permissions: a decimal string, or a non-negative integer number.
    mutating func readPermissions() throws(Failure) -> Permissions {
        if try peek() == UInt8(ascii: "\"") { return Permissions(rawValue: try readDecimalString()) }
        return Permissions(rawValue: try readUInt64())
    }

    /// A string of one or more ASCII digits that fits 64 bits, read without building a String.
    /// Escaped digits (`"\u0031"`) are legal JSON and take the slow path.
    private mutating func readDecimalString() throws(Failure) -> UInt64 {
        let start = position
        position += 1
        var value: UInt64 = 0
        var index = position
        // Nineteen digits always fit 64 bits; a twentieth needs the overflow check.
        let fastEnd = min(count, index + 19)
        #if _endian(little)
        while index + 8 <= fastEnd {
            let chunk = UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self)
            guard let eight = Self.eightDigits(chunk) else { break }
            value = value &* 100_000_000 &+ eight
            index += 8
        }
        #endif
        while index < fastEnd {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            value = value &* 10 &+ UInt64(digit)
            index += 1
        }
        if index == fastEnd, index < count, bytes[index] &- UInt8(ascii: "0") < 10 {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(bytes[index] &- UInt8(ascii: "0")))
            guard !o1 && !o2 else { throw Failure(.invalidDecimalString, at: start) }
            value = sum
            index += 1
        }
        if index < count, bytes[index] == UInt8(ascii: "\""), index > position {
            position = index + 1
            return value
        }
        position = start
        let text = try readString()
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }), let parsed = UInt64(text) else {
            throw Failure(.invalidDecimalString, at: start)
        }
        return parsed
    }
}

extension JSONScanner {
    /// The value of eight ASCII digits loaded little-endian (first digit in the low byte), or nil if
    /// any byte is not a digit.
    @inline(__always)
    static func eightDigits(_ chunk: UInt64) -> UInt64? {
        let zeros: UInt64 = 0x3030_3030_3030_3030
        // A byte above '9' overflows into its high bit when 0x46 is added; one below '0' borrows.
        guard ((chunk &+ 0x4646_4646_4646_4646) | (chunk &- zeros)) & 0x8080_8080_8080_8080 == 0 else { return nil }
        var value = chunk &- zeros
        value = (value &* 10 &+ (value >> 8)) & 0x00FF_00FF_00FF_00FF
        value = (value &* 100 &+ (value >> 16)) & 0x0000_FFFF_0000_FFFF
        value = (value &* 10_000 &+ (value >> 32)) & 0x0000_0000_FFFF_FFFF
        return value
    }
}

/// An object key: its bytes in the payload, or in static memory for a key that had escapes.
struct JSONKey {
    private let start: UnsafePointer<UInt8>
    private let count: Int

    init(start: UnsafePointer<UInt8>, count: Int) { self.start = start; self.count = count }

    /// Every key a reader asks for. An escaped key (`"\u0069d"`) that decodes to one of them stands
    /// for it; any other escaped key matches nothing, like any unknown key.
    static let known: [StaticString] = [
        "application", "available_for_purchase", "bot", "bot_id", "chunk_count", "chunk_index", "color", "d",
        "discriminator", "flags", "global_name", "guild_connections", "guild_id", "guilds", "heartbeat_interval",
        "hoist", "id", "integration_id", "joined_at", "large", "managed", "member_count", "members", "mentionable",
        "meta", "mfa_level", "name", "nick", "nonce", "not_found", "op", "opcode", "owner_id", "pending",
        "permissions", "position", "premium_subscriber", "resume_gateway_url", "retry_after", "role", "role_id",
        "roles", "s", "session_id", "subscription_listing_id", "t", "tags", "unavailable", "user", "username", "v",
    ]

    init(interning decoded: [UInt8]) {
        for name in Self.known {
            let candidate = JSONKey(start: name.utf8Start, count: name.utf8CodeUnitCount)
            if decoded.withUnsafeBufferPointer({ candidate.equals($0.baseAddress, $0.count) }) {
                self = candidate
                return
            }
        }
        // No name is empty-with-a-nil-start, so this matches nothing (the empty key "" included).
        self.init(start: UnsafePointer(bitPattern: 1).unsafelyUnwrapped, count: -1)
    }

    @inline(__always)
    func `is`(_ name: StaticString) -> Bool {
        assert(Self.known.contains { $0.utf8CodeUnitCount == name.utf8CodeUnitCount
            && JSONKey(start: $0.utf8Start, count: $0.utf8CodeUnitCount).equals(name.utf8Start, name.utf8CodeUnitCount) },
               "\(name) must be listed in JSONKey.known")
        return equals(name.utf8Start, name.utf8CodeUnitCount)
    }

    @inline(__always)
    private func equals(_ other: UnsafePointer<UInt8>?, _ length: Int) -> Bool {
        guard count == length, let other else { return false }
        for index in 0..<length where start[index] != other[index] { return false }
        return true
    }
}
