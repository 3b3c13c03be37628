import DiscordModels

/// A record as the admin API and `warden users import` receive it (SPEC 1.1): the Auth record plus
/// an optional `"discord": {"uid": …}` importing an existing link. An absent or null `discord` leaves
/// the stored link as it is.
///
/// Decoding is strict (SPEC 3.3): a key the contract does not define, at the top or inside
/// `main_character` or `discord`, is refused naming it (a misspelt `"Discord"` must not import nothing
/// silently), and `discord.uid` must be a positive snowflake.
public struct AuthUserImport: Codable, Hashable, Sendable {
    public var user: AuthUser
    public var discordUID: Snowflake?

    public init(user: AuthUser, discordUID: Snowflake? = nil) {
        self.user = user; self.discordUID = discordUID
    }

    private enum CodingKeys: String, CodingKey { case discord }
    private enum DiscordKeys: String, CodingKey, CaseIterable { case uid }

    public init(from decoder: any Decoder) throws {
        try UnknownRecordKey.refuse(in: decoder, allowed: AuthUser.CodingKeys.allCases.map(\.stringValue) + ["discord"])
        let keys = try decoder.container(keyedBy: AuthUser.CodingKeys.self)
        if keys.contains(.mainCharacter), try !keys.decodeNil(forKey: .mainCharacter) {
            try UnknownRecordKey.refuse(in: keys.superDecoder(forKey: .mainCharacter),
                                        allowed: MainCharacter.CodingKeys.allCases.map(\.stringValue))
        }
        user = try AuthUser(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if container.contains(.discord), try !container.decodeNil(forKey: .discord) {
            let discord = try container.nestedContainer(keyedBy: DiscordKeys.self, forKey: .discord)
            try UnknownRecordKey.refuse(in: container.superDecoder(forKey: .discord),
                                        allowed: DiscordKeys.allCases.map(\.stringValue))
            let uid = try discord.decode(Snowflake.self, forKey: .uid)
            guard uid.rawValue > 0 else {
                throw DecodingError.dataCorruptedError(forKey: .uid, in: discord, debugDescription: "a snowflake is positive")
            }
            discordUID = uid
        } else {
            discordUID = nil
        }
    }

    public func encode(to encoder: any Encoder) throws {
        try user.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        if let discordUID {
            var discord = container.nestedContainer(keyedBy: DiscordKeys.self, forKey: .discord)
            try discord.encode(discordUID, forKey: .uid)
        }
    }
}

/// Why a record was refused: it carries a key the contract does not define. Thrown as the underlying
/// error of a `DecodingError.dataCorrupted` whose coding path ends with the key, so the admin API's
/// answer names it like any other bad field.
public struct UnknownRecordKey: Error, Hashable, Sendable {
    /// Refuses the first key of the object `decoder` reads that is not in `allowed`. An object that is
    /// not an object is left for the record's own decoding to refuse.
    static func refuse(in decoder: any Decoder, allowed: [String]) throws {
        guard let object = try? decoder.container(keyedBy: AnyKey.self) else { return }
        let allowed = Set(allowed)
        // In a stable order (the decoder's key order is not the text's), so the answer is the same each time.
        guard let key = object.allKeys.filter({ !allowed.contains($0.stringValue) }).min(by: { $0.stringValue < $1.stringValue }) else { return }
        throw DecodingError.dataCorrupted(DecodingError.Context(
            codingPath: decoder.codingPath + [key], debugDescription: "unknown key", underlyingError: UnknownRecordKey()))
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
