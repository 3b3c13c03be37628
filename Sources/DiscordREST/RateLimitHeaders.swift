import Foundation

/// Discord's rate-limit headers of one response, parsed defensively: a missing, negative, non-finite
/// or absurd value reads as absent.
struct RateLimitHeaders: Sendable, Equatable {
    enum Scope: String, Sendable { case user, global, shared }

    var limit: Int?
    var remaining: Int?
    /// `X-RateLimit-Reset-After`: seconds until the bucket refills.
    var resetAfter: Duration?
    /// `X-RateLimit-Reset`: epoch seconds. Used only without `Reset-After`, and then only against the
    /// response's own `Date` header, so no wall-clock read is needed.
    var reset: Double?
    /// The `Date` header in epoch seconds.
    var date: Double?
    var bucket: String?
    var global = false
    var scope: Scope?
    /// `Retry-After`: whole seconds on Discord's 429s.
    var retryAfter: Duration?

    /// The longest wait any header may ask for; anything longer is clamped to it.
    static let longestWait: Duration = .seconds(7 * 24 * 3600)

    init(limit: Int? = nil, remaining: Int? = nil, resetAfter: Duration? = nil, bucket: String? = nil,
         global: Bool = false, scope: Scope? = nil, retryAfter: Duration? = nil) {
        self.limit = limit; self.remaining = remaining; self.resetAfter = resetAfter; self.bucket = bucket
        self.global = global; self.scope = scope; self.retryAfter = retryAfter
    }

    init(_ headers: HTTPHeaders) {
        for field in headers {
            let name = field.name
            // Every name Discord uses here has a distinct length or prefix; compare case-insensitively.
            if HTTPHeaders.namesMatch(name, "X-RateLimit-Limit") {
                limit = Int(field.value).flatMap { $0 >= 0 ? $0 : nil }
            } else if HTTPHeaders.namesMatch(name, "X-RateLimit-Remaining") {
                remaining = Int(field.value).flatMap { $0 >= 0 ? $0 : nil }
            } else if HTTPHeaders.namesMatch(name, "X-RateLimit-Reset-After") {
                resetAfter = Self.seconds(field.value)
            } else if HTTPHeaders.namesMatch(name, "X-RateLimit-Reset") {
                reset = Double(field.value).flatMap { $0.isFinite && $0 >= 0 ? $0 : nil }
            } else if HTTPHeaders.namesMatch(name, "X-RateLimit-Bucket") {
                let value = field.value
                bucket = value.isEmpty || value.utf8.count > 128 ? nil : value
            } else if HTTPHeaders.namesMatch(name, "X-RateLimit-Global") {
                global = field.value.lowercased() == "true"
            } else if HTTPHeaders.namesMatch(name, "X-RateLimit-Scope") {
                scope = Scope(rawValue: field.value.lowercased())
            } else if HTTPHeaders.namesMatch(name, "Retry-After") {
                retryAfter = Self.seconds(field.value)
            } else if HTTPHeaders.namesMatch(name, "Date") {
                date = HTTPDate.epochSeconds(field.value)
            }
        }
    }

    /// Time until the bucket refills: `Reset-After`, else `Reset` minus the response's `Date`.
    var timeToReset: Duration? {
        if let resetAfter { return resetAfter }
        guard let reset, let date else { return nil }
        return Self.clamp(reset - date)
    }

    static func seconds(_ text: String) -> Duration? {
        Double(text.trimmingCharacters(in: .whitespaces)).flatMap(clamp)
    }

    static func clamp(_ seconds: Double) -> Duration? {
        guard seconds.isFinite, seconds >= 0 else { return nil }
        // Compare before converting: a huge Double does not fit a Duration.
        return seconds >= 7 * 24 * 3600 ? longestWait : Duration.seconds(seconds)
    }
}

/// The JSON body of a 429: `{"message": …, "retry_after": 64.57, "global": false, "code"?: …}`.
struct RateLimitBody: Decodable, Sendable, Equatable {
    var retryAfter: Double?
    var global: Bool?

    enum CodingKeys: String, CodingKey { case retryAfter = "retry_after", global }

    /// nil when the body is not a JSON object (Cloudflare's HTML or plain-text pages).
    init?(json body: [UInt8]) {
        guard let first = body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
              first == UInt8(ascii: "{"),
              let decoded = try? JSONDecoder().decode(RateLimitBody.self, from: Data(body)) else { return nil }
        self = decoded
    }

    init(retryAfter: Double?, global: Bool?) { self.retryAfter = retryAfter; self.global = global }

    var retryAfterDuration: Duration? { retryAfter.flatMap(RateLimitHeaders.clamp) }
}

/// The IMF-fixdate form of an HTTP `Date` header (`Sun, 06 Nov 1994 08:49:37 GMT`), as epoch seconds.
enum HTTPDate {
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func epochSeconds(_ text: String) -> Double? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT",
              let day = Int(parts[1]), (1...31).contains(day),
              let monthIndex = months.firstIndex(where: { $0 == parts[2] }),
              let year = Int(parts[3]), (1970...9999).contains(year) else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, let hour = Int(clock[0]), let minute = Int(clock[1]), let second = Int(clock[2]),
              (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second) else { return nil }
        let days = daysFromCivil(year: year, month: monthIndex + 1, day: day)
        return Double(days * 86_400 + hour * 3600 + minute * 60 + second)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
