import AuthModels

extension AuthUser {
    /// The value of a name-format key for this user (SPEC 1.3); "" when the user has no main character
    /// or the value is missing (a character outside an alliance has no alliance fields).
    public func nameFormatValue(_ key: NameFormat.Key) -> String {
        if key == .username { return username }
        guard let main = mainCharacter else { return "" }
        switch key {
        case .characterName: return main.characterName
        case .characterID: return String(main.characterID)
        case .corpTicker: return main.corporationTicker
        case .corpName: return main.corporationName
        case .corpID: return String(main.corporationID)
        case .allianceName: return main.allianceName ?? ""
        case .allianceID: return main.allianceID.map { String($0) } ?? ""
        case .allianceTicker: return main.allianceTicker ?? ""
        case .username: return username
        case .allianceOrCorpName:
            if let name = main.allianceName, !name.isEmpty { return name }
            return main.corporationName
        case .allianceOrCorpTicker:
            if let ticker = main.allianceTicker, !ticker.isEmpty { return ticker }
            return main.corporationTicker
        }
    }
}

extension RoleSyncConfig {
    /// The nickname Warden wants for the user, or nil when the nickname is to be left alone:
    /// `sync_names` is off, the user has no main character, or the formatted name is empty after
    /// trimming. The result is trimmed and cut to 32 scalars by the text rules.
    public func nickname(for user: AuthUser) -> String? {
        guard syncNames else { return nil }
        return Nickname.wanted(for: user, format: nameFormat(forState: user.state))
    }
}

/// Formatting a user's nickname and checking a current one cheaply.
enum Nickname {
    /// The formatted nickname, trimmed and cut; nil without a main character or when empty.
    static func wanted(for user: AuthUser, format: NameFormat) -> String? {
        guard user.mainCharacter != nil else { return nil }
        let nick = DiscordText.nickname(format.render { user.nameFormatValue($0) })
        return nick.isEmpty ? nil : nick
    }

    /// Whether `format` rendered for `user` is byte for byte `nick` and needs neither trim nor cut, in
    /// which case it is the wanted nickname and `nick` is current. Builds no string. A false answer
    /// means only "not shown this way" (another normal form may still be equal).
    static func rendersExactly(_ format: NameFormat, for user: AuthUser, as nick: String) -> Bool {
        let utf8 = nick.utf8
        let count = utf8.count
        guard count <= DiscordText.nicknameLimit, let first = utf8.first, let last = utf8.last,
              first < 0x80, last < 0x80,
              !DiscordText.isASCIIWhitespace(first), !DiscordText.isASCIIWhitespace(last) else { return false }
        let matched = utf8.withContiguousStorageIfAvailable { nickBytes -> Bool in
            var offset = 0
            for segment in format.segments {
                let piece: String
                switch segment {
                case .literal(let text): piece = text
                case .placeholder(let key): piece = user.nameFormatValue(key)
                }
                let same = piece.utf8.withContiguousStorageIfAvailable { pieceBytes -> Bool in
                    guard offset + pieceBytes.count <= count else { return false }
                    for i in 0..<pieceBytes.count where nickBytes[offset + i] != pieceBytes[i] { return false }
                    offset += pieceBytes.count
                    return true
                }
                guard same == true else { return false }
            }
            return offset == count
        }
        return matched == true
    }
}
