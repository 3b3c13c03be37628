import AuthModels
import AuthStore
import DiscordModels
import Foundation

/// JSON reading and writing for the admin API: one encoder configuration, body checks (nesting depth)
/// and decoding errors turned into `{"error": …}` texts that name the bad field.
enum AdminJSON {
    /// How deep objects and arrays may nest in a request body. A batch of records nests 3 deep.
    static let maximumDepth = 8

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        try encoder().encode(value)
    }

    /// Decodes a request body, or throws a 400 ``AdminAPIError`` naming the bad field.
    /// - Parameter what: what the body holds (`record`, `records`, `names`, `task`); for `records`
    ///   (an array of records) field paths start with `record N: `.
    static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8], what: String) throws(AdminAPIError) -> T {
        guard isUTF8Text(body) else { throw .badRequest("body: not valid JSON (expected UTF-8 text)") }
        guard !exceedsDepth(body, limit: maximumDepth) else {
            throw .badRequest("body: nested deeper than \(maximumDepth) levels")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch let error as DecodingError {
            throw .badRequest(describe(error, what: what))
        } catch {
            throw .badRequest("body: not valid JSON")
        }
    }

    /// Whether `bytes` is UTF-8 without NUL, as JSON over HTTP must be (RFC 8259). Foundation's decoder
    /// would guess UTF-16 from NUL bytes and skips invalid UTF-8 in values it does not read, so a body
    /// could read one way to the `id` probe and another once the `id` is spliced in (fuzz findings).
    static func isUTF8Text(_ bytes: [UInt8]) -> Bool {
        !bytes.contains(0) && String(validating: bytes, as: UTF8.self) != nil
    }

    /// Whether arrays and objects nest deeper than `limit` (brackets inside strings do not count).
    /// A cheap pass before the decoder, so a hostile body cannot make it recurse deeply.
    static func exceedsDepth(_ bytes: [UInt8], limit: Int) -> Bool {
        var depth = 0
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > limit { return true }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return false
    }

    /// `groups[0]: expected a string`, `main_character.character_id: missing`, `record 2: discord.uid: …`.
    /// Never echoes the offending value.
    static func describe(_ error: DecodingError, what: String) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            var keys = keys
            var prefix = ""
            if what == "records", let first = keys.first, let index = first.intValue {
                prefix = "record \(index): "
                keys.removeFirst()
            }
            var text = ""
            for key in keys {
                if let index = key.intValue { text += "[\(index)]" } else {
                    text += text.isEmpty ? key.stringValue : "." + key.stringValue
                }
            }
            return prefix + (text.isEmpty ? "body" : text)
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): missing"
        case .valueNotFound(_, let context):
            return "\(path(context.codingPath)): must not be null"
        case .typeMismatch(let type, let context):
            if context.codingPath.isEmpty { return "body: expected \(what == "records" ? "an array of records" : expectation(type))" }
            return "\(path(context.codingPath)): expected \(expectation(type))"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "body: not valid JSON" }
            if context.underlyingError is UnknownRecordKey {
                return "\(path(context.codingPath)): unknown key; a record has only the keys of SPEC 1.1 (keys are case-sensitive)"
            }
            let last = context.codingPath.last?.stringValue
            if last == "uid" { return "\(path(context.codingPath)): expected a positive Discord id (a decimal string or a positive integer)" }
            return "\(path(context.codingPath)): invalid value"
        @unknown default:
            return "body: invalid"
        }
    }

    private static func expectation(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type, is Int64.Type, is UInt64.Type, is Int32.Type: return "an integer"
        case is Double.Type: return "a number"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "a value of another type"
        }
    }

    /// Adds `"id": id` to a JSON object that has no `id` (the caller checked that), by splicing the
    /// text: no re-encoding, so no number loses precision.
    static func insertingID(_ id: Int64, into body: [UInt8]) -> [UInt8]? {
        let whitespace: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        guard let open = body.firstIndex(where: { !whitespace.contains($0) }), body[open] == UInt8(ascii: "{") else { return nil }
        let next = body[(open + 1)...].firstIndex(where: { !whitespace.contains($0) })
        let isEmpty = next.map { body[$0] == UInt8(ascii: "}") } ?? false
        var out = Array(body[...open])
        out += Array("\"id\":\(id)\(isEmpty ? "" : ",")".utf8)
        out += body[(open + 1)...]
        return out
    }
}

/// Whether a JSON object carries an `id`, and of which type, without decoding the rest.
struct IDProbe: Decodable {
    var hasID: Bool
    var id: Int64?

    enum CodingKeys: String, CodingKey { case id }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hasID = c.contains(.id)
        id = try c.decodeIfPresent(Int64.self, forKey: .id)
    }
}

/// An Auth record as the admin API shows it (SPEC 1.1): every key present, null where there is no value.
struct AuthUserJSON: Encodable {
    var user: AuthUser

    enum CodingKeys: String, CodingKey {
        case id, username, active, state, groups, canAccessDiscord = "can_access_discord", mainCharacter = "main_character"
    }

    enum MainKeys: String, CodingKey {
        case characterID = "character_id", characterName = "character_name"
        case corporationID = "corporation_id", corporationName = "corporation_name", corporationTicker = "corporation_ticker"
        case allianceID = "alliance_id", allianceName = "alliance_name", allianceTicker = "alliance_ticker"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(user.id, forKey: .id)
        try c.encode(user.username, forKey: .username)
        try c.encode(user.active, forKey: .active)
        try c.encode(user.state, forKey: .state)
        try c.encode(user.groups, forKey: .groups)
        try c.encode(user.canAccessDiscord, forKey: .canAccessDiscord)
        guard let main = user.mainCharacter else {
            try c.encodeNil(forKey: .mainCharacter)
            return
        }
        var m = c.nestedContainer(keyedBy: MainKeys.self, forKey: .mainCharacter)
        try m.encode(main.characterID, forKey: .characterID)
        try m.encode(main.characterName, forKey: .characterName)
        try m.encode(main.corporationID, forKey: .corporationID)
        try m.encode(main.corporationName, forKey: .corporationName)
        try m.encode(main.corporationTicker, forKey: .corporationTicker)
        try m.encode(main.allianceID, forKey: .allianceID)
        try m.encode(main.allianceName, forKey: .allianceName)
        try m.encode(main.allianceTicker, forKey: .allianceTicker)
    }
}

/// `GET /api/users/{id}`.
struct UserOverviewJSON: Encodable {
    var overview: UserOverview
    /// A check or write of the member is queued or in flight: `"pending"` whatever the last record says.
    var pending = false

    enum CodingKeys: String, CodingKey { case user, discord, enforcement }
    enum DiscordKeys: String, CodingKey {
        case uid, username, discriminator, globalName = "global_name", display, activated
    }
    enum EnforcementKeys: String, CodingKey { case state, reason, at }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(AuthUserJSON(user: overview.stored.user), forKey: .user)
        if let link = overview.link {
            var d = c.nestedContainer(keyedBy: DiscordKeys.self, forKey: .discord)
            try d.encode(link.uid, forKey: .uid)
            try d.encode(link.username, forKey: .username)
            try d.encode(link.discriminator, forKey: .discriminator)
            try d.encode(link.globalName, forKey: .globalName)
            try d.encode(link.display, forKey: .display)
            try d.encode(link.activatedAt, forKey: .activated)
        } else {
            try c.encodeNil(forKey: .discord)
        }
        var e = c.nestedContainer(keyedBy: EnforcementKeys.self, forKey: .enforcement)
        let state: EnforcementRecord.State = pending ? .pending : overview.enforcement?.state ?? .ok
        try e.encode(state, forKey: .state)
        try e.encode(pending ? nil : overview.enforcement?.reason, forKey: .reason)
        try e.encode(overview.enforcement?.at, forKey: .at)
    }
}

/// `GET /api/tasks/{id}`.
struct TaskRunJSON: Encodable {
    var run: TaskRun

    enum CodingKeys: String, CodingKey {
        case id, name, userID = "user_id", state, done, total, written, skipped, failed, error, createdAt = "created_at", updatedAt = "updated_at"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(run.id, forKey: .id)
        try c.encode(run.name, forKey: .name)
        try c.encode(run.userID, forKey: .userID)
        try c.encode(run.state, forKey: .state)
        try c.encode(run.progress.done, forKey: .done)
        try c.encode(run.progress.total, forKey: .total)
        try c.encode(run.progress.written, forKey: .written)
        try c.encode(run.progress.skipped, forKey: .skipped)
        try c.encode(run.progress.failed, forKey: .failed)
        try c.encode(run.error, forKey: .error)
        try c.encode(run.createdAt, forKey: .createdAt)
        try c.encode(run.updatedAt, forKey: .updatedAt)
    }
}

/// One entry of `GET /api/notifications`.
struct NotificationJSON: Encodable {
    var notification: AuthNotification

    enum CodingKeys: String, CodingKey { case userID = "user_id", kind, message, createdAt = "created_at" }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(notification.userID, forKey: .userID)
        try c.encode(notification.kind, forKey: .kind)
        try c.encode(notification.message, forKey: .message)
        try c.encode(notification.createdAt, forKey: .createdAt)
    }
}

/// The optional body of `POST /api/tasks/{name}`: `{"user_id": n}` or `{}`.
struct TaskRequestBody: Decodable {
    var userID: Int64?
    enum CodingKeys: String, CodingKey { case userID = "user_id" }
}

/// The optional body of `POST /api/users/{id}/discord/activation-link`: `{"ttl": seconds, "guild_id": id}`.
/// An unknown key is refused, naming it (a misspelt `"tll"` must not silently give the default).
struct ActivationLinkRequest: Decodable {
    var ttl: Int?
    var guildID: Snowflake?

    enum CodingKeys: String, CodingKey, CaseIterable { case ttl, guildID = "guild_id" }

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // Read as a number first: Foundation reports 1.5 read as an integer without naming the key.
        if let seconds = try container.decodeIfPresent(Double.self, forKey: .ttl) {
            guard let whole = Int(exactly: seconds) else {
                throw DecodingError.dataCorruptedError(forKey: .ttl, in: container, debugDescription: "not a whole number")
            }
            ttl = whole
        }
        guildID = try container.decodeIfPresent(Snowflake.self, forKey: .guildID)
    }

    static func decode(_ body: [UInt8]) throws(AdminAPIError) -> ActivationLinkRequest {
        let keys = try AdminJSON.decode([String: JSONValue].self, from: body, what: "body").keys
        if let unknown = keys.sorted().first(where: { CodingKeys(rawValue: $0) == nil }) {
            throw .badRequest("\(unknown): unknown key; the body takes \(CodingKeys.allCases.map(\.rawValue).joined(separator: " and "))")
        }
        return try AdminJSON.decode(ActivationLinkRequest.self, from: body, what: "body")
    }
}
