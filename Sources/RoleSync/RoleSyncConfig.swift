/// The configuration keys that shape a plan (`discord.sync_names`, `discord.disable_role_creation`,
/// `discord.name_formats`).
public struct RoleSyncConfig: Hashable, Sendable {
    /// Nicknames are set from the main character; off: nicknames are never touched.
    public var syncNames: Bool
    /// Missing roles are skipped instead of created.
    public var disableRoleCreation: Bool
    /// Name format per state name; states not listed use `NameFormat.default` (`{character_name}`).
    public var nameFormats: [String: NameFormat]

    public init(syncNames: Bool = false, disableRoleCreation: Bool = false, nameFormats: [String: NameFormat] = [:]) {
        self.syncNames = syncNames
        self.disableRoleCreation = disableRoleCreation
        self.nameFormats = nameFormats
    }

    /// The format for a state (exact state name, canonical equivalence).
    public func nameFormat(forState state: String) -> NameFormat {
        nameFormats[state] ?? .default
    }
}
