import DiscordModels

/// The live cache of the one guild Warden manages, applied from gateway dispatches.
///
/// Pure and synchronous: no I/O, no locks, no tasks. The daemon's gateway event loop is its only
/// writer; it is a value type, so a reader gets a snapshot by copying it (cheap: the storage is
/// shared until the writer next changes it, which then copies once — hand snapshots out sparingly
/// and drop them soon, or ask questions on the loop).
///
/// Sessions: READY (a fresh identify) starts a rebuild: the member cache becomes `.pending` until the
/// daemon requests all members (op 8) and calls `beginMemberFill(nonce:)`; GUILD_CREATE replaces the
/// roles and guild fields; the fill's chunks refresh every member, and when the fill is complete,
/// members it did not mention (left while Warden was away) are removed. The old data keeps answering
/// until then. RESUMED rebuilds nothing. See docs/guild-state.md.
public struct GuildState: Sendable {
    public let guildID: Snowflake
    public private(set) var name: String?
    public private(set) var ownerID: Snowflake?
    public private(set) var mfaLevel: MFALevel = .none
    public private(set) var availability: Availability = .unknown
    /// The bot's own user, from READY and USER_UPDATE.
    public private(set) var botUser: User?
    public private(set) var memberCache: MemberCacheStatus = .pending
    /// `member_count` of the last GUILD_CREATE (used to size the cache before a fill).
    public private(set) var expectedMemberCount: Int?

    var roleTable = RoleTable()
    var memberTable = MemberTable()
    private var fill: MemberFill?

    /// Bookkeeping of the current member fill (op 8 request and its chunks).
    struct MemberFill: Sendable {
        var nonce: String?
        /// Removed by a live event since the fill began: chunk data must not bring them back.
        var removed: Set<Snowflake> = []
        /// Deleted since the fill began: chunk data may still name them.
        var deletedRoles: Set<Snowflake> = []
        var receivedChunks: Set<Int> = []
        var chunkCount: Int?
        var chunkCountsAgree = true
    }

    /// Where a member's data comes from; only chunk data yields to newer live events.
    enum MemberSource { case live, snapshot, chunk }

    public init(guildID: Snowflake) { self.guildID = guildID }

    public var isMemberCacheComplete: Bool { memberCache == .complete }

    // MARK: applying events

    /// Applies one dispatch and says what changed. Events for other guilds change nothing (`ignored`).
    public mutating func apply(_ dispatch: GatewayDispatch) -> GuildChanges {
        var changes = GuildChanges()
        switch dispatch {
        case .ready(let ready):
            applyReady(ready, &changes)
        case .guildCreate(let guild):
            guard guild.id == guildID else { return .ignoredEvent }
            applyGuildCreate(guild, &changes)
        case .guildCreateUnavailable(let stub):
            guard stub.id == guildID else { return .ignoredEvent }
            setAvailability(.unavailable, &changes)
        case .guildUpdate(let guild):
            guard guild.id == guildID else { return .ignoredEvent }
            applyGuildFields(guild, &changes)
            if !guild.roles.isEmpty { replaceRoles(guild.roles, &changes) }
        case .guildDelete(let stub):
            guard stub.id == guildID else { return .ignoredEvent }
            if stub.meansRemoved {
                setAvailability(.removed, &changes)
                fill = nil
                memberCache = .pending
                changes.botStandingMayHaveChanged = true
            } else {
                setAvailability(.unavailable, &changes)
            }
        case .guildRoleCreate(let event), .guildRoleUpdate(let event):
            guard event.guildID == guildID else { return .ignoredEvent }
            upsertRole(event.role, &changes)
        case .guildRoleDelete(let event):
            guard event.guildID == guildID else { return .ignoredEvent }
            if fill != nil { fill!.deletedRoles.insert(event.roleID) }
            deleteRole(event.roleID, &changes)
        case .guildMemberAdd(let event), .guildMemberUpdate(let event):
            guard event.guildID == guildID else { return .ignoredEvent }
            upsert(event.member, source: .live, &changes)
        case .guildMemberRemove(let event):
            guard event.guildID == guildID else { return .ignoredEvent }
            removeMember(event.user.id, live: true, &changes)
        case .guildMembersChunk(let chunk):
            return apply(chunk: chunk)
        case .userUpdate(let user):
            applyUserUpdate(user, &changes)
        case .resumed, .rateLimited, .other:
            break
        }
        return changes
    }

    /// Starts tracking a member fill: call it when sending op 8 for all members. Resets any previous
    /// fill; chunks of other requests (another nonce) are ignored from now on.
    public mutating func beginMemberFill(nonce: String?) {
        fill = MemberFill(nonce: nonce)
        memberTable.clearFillFlags()
        memberCache = .filling(nonce: nonce)
        if let expectedMemberCount { memberTable.reserveCapacity(min(expectedMemberCount, 1 << 24)) }
    }

    /// Applies a GUILD_MEMBERS_CHUNK of the current fill: members are upserted unless a live event
    /// touched or removed them since the fill began. The fill completes with the last chunk
    /// (`chunk_index + 1 == chunk_count`); if every chunk arrived, members none of them named are removed.
    public mutating func apply(chunk: GuildMembersChunk) -> GuildChanges {
        guard chunk.guildID == guildID, var current = fill, current.nonce == nil || current.nonce == chunk.nonce,
              chunk.chunkCount > 0, chunk.chunkIndex >= 0, chunk.chunkIndex < chunk.chunkCount
        else { return .ignoredEvent }
        current.receivedChunks.insert(chunk.chunkIndex)
        if let count = current.chunkCount, count != chunk.chunkCount { current.chunkCountsAgree = false }
        current.chunkCount = current.chunkCount ?? chunk.chunkCount
        fill = current

        var changes = GuildChanges()
        for member in chunk.members { upsert(member, source: .chunk, &changes) }

        if chunk.chunkIndex + 1 == chunk.chunkCount {
            if current.chunkCountsAgree, current.receivedChunks.count == chunk.chunkCount { sweepUnseen(&changes) }
            fill = nil
            memberCache = .complete
            changes.memberFillCompleted = true
        }
        return changes
    }

    // MARK: guild and session

    private mutating func applyReady(_ ready: Ready, _ changes: inout GuildChanges) {
        if botUser != ready.user { changes.botStandingMayHaveChanged = true }
        botUser = ready.user
        fill = nil
        memberCache = .pending
        changes.memberFillNeeded = true
        if !ready.guilds.contains(where: { $0.id == guildID }) {
            setAvailability(.removed, &changes)
        }
    }

    private mutating func applyGuildCreate(_ guild: Guild, _ changes: inout GuildChanges) {
        applyGuildFields(guild, &changes)
        replaceRoles(guild.roles, &changes)
        if let count = guild.memberCount {
            expectedMemberCount = count
            memberTable.reserveCapacity(min(count, 1 << 24))
        }
        for member in guild.members ?? [] { upsert(member, source: .snapshot, &changes) }
        setAvailability(.available, &changes)
        changes.botStandingMayHaveChanged = true
        if fill == nil {
            memberCache = .pending
            changes.memberFillNeeded = true
        }
    }

    private mutating func applyGuildFields(_ guild: Guild, _ changes: inout GuildChanges) {
        if name != guild.name || ownerID != guild.ownerID || mfaLevel != guild.mfaLevel {
            changes.guildUpdated = true
        }
        if ownerID != guild.ownerID { changes.botStandingMayHaveChanged = true }
        name = guild.name
        ownerID = guild.ownerID
        mfaLevel = guild.mfaLevel
    }

    private mutating func setAvailability(_ new: Availability, _ changes: inout GuildChanges) {
        guard availability != new else { return }
        changes.availability = AvailabilityChange(before: availability, after: new)
        availability = new
    }

    private mutating func applyUserUpdate(_ user: User, _ changes: inout GuildChanges) {
        if botUser?.id != user.id { changes.botStandingMayHaveChanged = true }
        botUser = user
        guard let i = memberTable.position(of: user.id) else { return }
        let cached = materialize(i)
        let member = GuildMember(user: user, nick: cached.nick, roles: cached.roleIDs, pending: cached.pending)
        upsert(member, source: .live, &changes)
    }

    // MARK: roles

    private mutating func upsertRole(_ role: Role, _ changes: inout GuildChanges) {
        guard let before = roleTable.upsert(role) else {
            changes.rolesCreated.append(role.id)
            changes.botStandingMayHaveChanged = true
            return
        }
        if before.name != role.name {
            changes.rolesRenamed.append(RoleRename(roleID: role.id, before: before.name, after: role.name))
        }
        if before.position != role.position {
            changes.rolesMoved.append(role.id)
            changes.botStandingMayHaveChanged = true
        }
        if before.permissions != role.permissions || before.managed != role.managed || before.tags != role.tags {
            changes.botStandingMayHaveChanged = true
        }
    }

    /// Full replace: roles absent from `roles` (a complete list) are deleted, also from members.
    private mutating func replaceRoles(_ roles: [Role], _ changes: inout GuildChanges) {
        for role in roles { upsertRole(role, &changes) }
        let keep = Set(roles.map(\.id))
        let gone = (Array(roleTable.roles.keys) + roleTable.unknownIDs).filter { !keep.contains($0) }
        for id in gone { deleteRole(id, &changes) }
    }

    /// Deletes a role (or an unknown role id) and strips it from every cached member.
    private mutating func deleteRole(_ id: Snowflake, _ changes: inout GuildChanges) {
        if let slot = roleTable.slot(of: id) {
            let positions = memberTable.positions(holding: slot)
            let befores = positions.map { materialize($0) }
            memberTable.strip(slot: slot, at: positions)
            for (position, before) in zip(positions, befores) {
                changes.membersChanged.append(MemberChange(before: before, after: materialize(position)))
                if before.userID == botUser?.id { changes.botStandingMayHaveChanged = true }
            }
        }
        if let role = roleTable.remove(id) {
            changes.rolesDeleted.append(role)
            changes.botStandingMayHaveChanged = true
        }
    }

    // MARK: members

    private func materialize(_ position: Int) -> Member {
        memberTable.member(at: position) { roleTable.id(ofSlot: $0) }
    }

    private mutating func upsert(_ member: GuildMember, source: MemberSource, _ changes: inout GuildChanges) {
        guard let user = member.user else { return }
        let id = user.id
        let existing = memberTable.position(of: id)
        if source == .chunk, let fill {
            if !fill.removed.isEmpty, fill.removed.contains(id) { return }
            if let i = existing, memberTable.records[i].flags.contains(.liveInFill) { return }
        }
        let deletedRoles = fill?.deletedRoles ?? []
        let start = memberTable.stageStart()
        for roleID in member.roles where roleID != guildID {
            if !deletedRoles.isEmpty, deletedRoles.contains(roleID) { continue }
            guard let slot = roleTable.slotAllocating(roleID) else { continue }
            if !memberTable.stageRole(slot, start: start) { break }
        }
        let staged = memberTable.stageFinish(id: id, start: start, user: user, nick: member.nick,
                                             pending: member.pending)

        var fillFlags: MemberFlags = []
        if fill != nil {
            fillFlags = source == .live ? [.seenInFill, .liveInFill] : [.seenInFill]
            if source == .live { fill!.removed.remove(id) }
        }
        let isBot = id == botUser?.id
        switch memberTable.compare(staged, existing: existing) {
        case .new:
            var record = staged
            record.flags.formUnion(fillFlags)
            memberTable.insert(record)
            changes.membersAdded.append(id)
            if isBot { changes.botStandingMayHaveChanged = true }
        case .same(let i):
            memberTable.discard(staged)
            memberTable.setFlags(fillFlags, at: i)
        case .different(let i):
            let before = materialize(i)
            memberTable.replace(at: i, with: staged, fill: fillFlags)
            let change = MemberChange(before: before, after: materialize(i))
            changes.membersChanged.append(change)
            if isBot, change.rolesChanged { changes.botStandingMayHaveChanged = true }
        }
    }

    private mutating func removeMember(_ id: Snowflake, live: Bool, _ changes: inout GuildChanges) {
        if live, fill != nil { fill!.removed.insert(id) }
        guard let i = memberTable.position(of: id) else { return }
        changes.membersRemoved.append(materialize(i))
        memberTable.remove(at: i)
        if id == botUser?.id { changes.botStandingMayHaveChanged = true }
    }

    /// Removes the members a complete fill did not name (and no live event touched).
    private mutating func sweepUnseen(_ changes: inout GuildChanges) {
        var i = memberTable.count - 1
        while i >= 0 {
            if !memberTable.records[i].flags.contains(.seenInFill) {
                removeMember(memberTable.records[i].id, live: false, &changes)
            }
            i -= 1
        }
    }
}

extension GuildChanges {
    static var ignoredEvent: GuildChanges {
        var changes = GuildChanges()
        changes.ignored = true
        return changes
    }
}
