import AuthStore

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
        guard syncNames, user.mainCharacter != nil else { return nil }
        let rendered = nameFormat(forState: user.state).render { user.nameFormatValue($0) }
        let nick = DiscordText.nickname(rendered)
        return nick.isEmpty ? nil : nick
    }
}
