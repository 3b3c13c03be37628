import AuthStore
import DiscordModels
import DiscordREST
import Foundation
import GuildState
import Logging
import RoleSync

/// What the enforcer needs to know from configuration.
public struct EnforcerConfiguration: Sendable {
    public var guildID: Snowflake
    /// `discord.enforce`: false = observe-only (plans are logged and listed, nothing is written).
    public var enforce: Bool
    public var roleSync: RoleSyncConfig
    public var unlinkedMembers: UnlinkedMemberPolicy
    /// `discord.fight_limit`: corrections of one member allowed within `fightWindow`.
    public var fightLimit: Int
    public var fightWindow: Duration
    /// How long a fighting member is left alone (unless Auth's record changes first).
    public var fightPause: Duration
    /// Writes in flight at once per lane (member edits, member roles).
    public var writesPerLane: Int
    /// How long a completed write's expected result stands in for the cache before its echo event arrives.
    public var echoTimeout: Duration
    /// How long a role Warden created is believed to exist while its GUILD_ROLE_CREATE has not arrived.
    /// Only a safety net: the event (or a GUILD_CREATE listing every role) always comes, but may lag
    /// behind a busy gateway; ending the memory too early would create the role twice.
    public var roleEchoTimeout: Duration

    public init(guildID: Snowflake, enforce: Bool = true, roleSync: RoleSyncConfig = RoleSyncConfig(),
                unlinkedMembers: UnlinkedMemberPolicy = .ignore, fightLimit: Int = 5,
                fightWindow: Duration = .seconds(600), fightPause: Duration = .seconds(3600),
                writesPerLane: Int = 4, echoTimeout: Duration = .seconds(10), roleEchoTimeout: Duration = .seconds(60)) {
        self.guildID = guildID; self.enforce = enforce; self.roleSync = roleSync
        self.unlinkedMembers = unlinkedMembers; self.fightLimit = fightLimit; self.fightWindow = fightWindow
        self.fightPause = fightPause; self.writesPerLane = writesPerLane; self.echoTimeout = echoTimeout
        self.roleEchoTimeout = roleEchoTimeout
    }
}

/// How one member's check ended.
public enum SettleOutcome: Sendable, Hashable {
    /// Already as Auth wants it.
    case inSync
    /// A write was made and succeeded.
    case written
    /// Nothing (more) will be attempted for now; the reason names why (`owner`, `role_fight`, …).
    case skipped(String)
    /// The write failed after its retries; the member waits for the next audit.
    case failed(String)
    /// Observe-only mode: the change that would have been made.
    case observed(String)
    /// The member is not in the guild (or not linked): nothing to do.
    case absent
}

/// Reports from the enforcer to alerts, metrics and the daemon. Called on the enforcer's executor; keep
/// them quick and non-blocking.
public struct EnforcerHooks: Sendable {
    public var alert: @Sendable (AlertKind, String, AlertCondition?) -> Void
    public var correction: @Sendable (EnforcementCause, Duration?) -> Void
    /// A REST refusal that stops all work (401 token invalid).
    public var fatal: @Sendable (DiscordRESTError) -> Void
    /// A member write (roles, nickname, kick) failed after its retries.
    public var writeFailed: @Sendable () -> Void

    public init(alert: @escaping @Sendable (AlertKind, String, AlertCondition?) -> Void = { _, _, _ in },
                correction: @escaping @Sendable (EnforcementCause, Duration?) -> Void = { _, _ in },
                fatal: @escaping @Sendable (DiscordRESTError) -> Void = { _ in },
                writeFailed: @escaping @Sendable () -> Void = {}) {
        self.alert = alert; self.correction = correction; self.fatal = fatal; self.writeFailed = writeFailed
    }
}

/// A full audit's result.
public struct AuditReport: Sendable, Hashable {
    /// Linked users whose member is in the guild and was checked.
    public var checked: Int
    /// Of those, how many were queued for a write (or, observe-only, recorded as observed).
    public var wrong: Int
    /// Unlinked members queued for stripping (policy `strip`) or holding Auth roles (policy `report`).
    public var unlinkedWithAuthRoles: Int
}

/// A skipped member as status shows it.
public struct SkippedMember: Sendable, Hashable, Codable {
    public var userID: Int64?
    public var discordUID: Snowflake
    /// What Discord shows for the member (nick, global name, username); nil when it is not in the cache.
    public var name: String?
    public var reason: String
    enum CodingKeys: String, CodingKey { case userID = "user_id", discordUID = "discord_uid", name, reason }
}

/// A planned change in observe-only mode, as status shows it.
public struct ObservedChange: Sendable, Hashable, Codable {
    public var userID: Int64?
    public var discordUID: Snowflake
    /// What Discord shows for the member; nil when it is not in the cache.
    public var name: String?
    public var change: String
    enum CodingKeys: String, CodingKey { case userID = "user_id", discordUID = "discord_uid", name, change }
}

/// Enforcement (SPEC 1.2–1.5): owns the live guild cache (applied from gateway dispatches by the daemon's
/// one gateway loop), Auth's records in memory (kept current from the store's change feed), and the
/// per-member write queue. Every change that can make a member wrong triggers that member at once;
/// triggers coalesce; one write per member is in flight; each member is re-checked against the newest
/// state when its write completes, so the echo of Warden's own write causes no further write.
public actor Enforcer<C: Clock> where C.Duration == Duration {
    public let configuration: EnforcerConfiguration
    let store: AuthStore
    let writer: any GuildWriter
    let clock: C
    let hooks: EnforcerHooks
    let logger: Logger

    // The cache and Auth's view.
    private(set) var guild: GuildState
    private var users: AuthUsers
    private var reservedNames: [String] = []
    private var authRoleNames = AuthRoleNames(names: [String]())
    private var plannerCache: MemberPlanner?
    private var unlinkedCache: UnlinkedMembers?

    // The write queue.
    private var queue = MemberQueue()
    private var triggers: [Snowflake: Trigger] = [:]
    /// Triggers that arrived while the member's write was in flight.
    private var recheck: [Snowflake: Trigger] = [:]
    private var busy: Set<Snowflake> = []
    private var laneLoad: [Lane: Int] = [:]
    private var laneBacklog: [Lane: MemberQueue] = [:]
    private var expected: [Snowflake: ExpectedMember] = [:]
    /// Members for which an event arrived while their write was in flight: the cache is at least as new
    /// as the write's answer, so no expectation is set for them.
    private var touchedWhileBusy: Set<Snowflake> = []
    private var fights: [Snowflake: FightRecord] = [:]
    private var kicking: Set<Snowflake> = []
    /// Roles to create, created and not yet in the cache, failed; and the members waiting for them.
    private var roleCreations = RoleCreationMemory<C.Instant>()
    /// The permissions Warden needs that the bot had at the last standing check: when one comes back,
    /// the members skipped for lacking it are audited (SPEC 1.8).
    private var knownBotPermissions: Permissions = []
    private var watchers: [Snowflake: [@Sendable (Snowflake, SettleOutcome) -> Void]] = [:]
    /// Callers that asked while the member's write was in flight: that write's outcome answers the check
    /// that launched it, so they wait for the re-check that follows it (see `watch`).
    private var watchersAfterWrite: [Snowflake: [@Sendable (Snowflake, SettleOutcome) -> Void]] = [:]
    private var stopped = false
    /// A write was refused with 60003 (the guild requires 2FA, the bot owner has none) and no write
    /// has succeeded since: `two_factor_required` is open.
    private var twoFactorBlocked = false
    private var idleWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextIdleWaiter = 0

    // What status shows.
    private var skipped: [Snowflake: String] = [:]
    private var observed: [Snowflake: String] = [:]
    private var failed: [Snowflake: String] = [:]
    private var reportedUnlinked: Set<Snowflake> = []
    private var lastRecorded: [Snowflake: EnforcementRecord.State] = [:]
    /// Outcomes waiting to be stored, the newest per member. One saver at a time writes them in one
    /// transaction per batch: a burst of events never becomes a task per outcome, and a member's older
    /// outcome never lands after its newer one.
    private var unsavedRecords: [Snowflake: EnforcementOutcome] = [:]
    private var savingRecords = false

    struct Trigger {
        var cause: EnforcementCause
        var at: C.Instant
    }

    struct ExpectedMember {
        var roles: Set<Snowflake>
        var nick: String?
        var until: C.Instant
    }

    struct FightRecord {
        var corrections: [C.Instant] = []
        var blockedUntil: C.Instant?
    }

    /// Discord's two member-edit buckets are separate; keeping a lane for each lets both be used at once.
    enum Lane: Hashable {
        /// `PATCH` and kick.
        case memberEdit
        /// `PUT`/`DELETE` of one role.
        case memberRole
    }

    public init(configuration: EnforcerConfiguration, store: AuthStore, writer: any GuildWriter, clock: C,
                hooks: EnforcerHooks = EnforcerHooks(), logger: Logger = Logger(label: "warden.enforcer")) {
        self.configuration = configuration
        self.store = store
        self.writer = writer
        self.clock = clock
        self.hooks = hooks
        self.logger = logger
        self.guild = GuildState(guildID: configuration.guildID)
        self.users = AuthUsers(config: configuration.roleSync)
    }

    // MARK: - Loading Auth's view

    /// Reads every Auth record, link and reserved name from the store. Call once before events flow.
    public func load() async throws {
        let stored = try await store.users()
        let links = try await store.discordLinks()
        users.replaceAll(users: stored.map(\.user), links: links.map { (uid: $0.uid, userID: $0.userID) })
        reservedNames = try await store.reservedGroupNames()
        authRoleNames = AuthRoleNames(records: users.values)
        invalidatePlanner()
    }

    // MARK: - Gateway events

    /// Applies one gateway dispatch to the cache and triggers what it makes wrong.
    @discardableResult
    public func apply(_ dispatch: GatewayDispatch) async -> GuildChanges {
        let changes: GuildChanges
        if case .guildMembersChunk(let chunk) = dispatch {
            changes = guild.apply(chunk: chunk)
        } else {
            changes = guild.apply(dispatch)
        }
        await react(to: changes, dispatch: dispatch)
        return changes
    }

    /// The daemon sent op 8: chunks of this request fill the cache from now on.
    public func beginMemberFill(nonce: String?) {
        guild.beginMemberFill(nonce: nonce)
    }

    /// Read access to the cache for status and linking.
    public func withGuild<T: Sendable>(_ body: @Sendable (GuildState) -> T) -> T { body(guild) }

    private func react(to changes: GuildChanges, dispatch: GatewayDispatch) async {
        guard !changes.ignored, !changes.isEmpty else { return }
        let now = clock.now

        let rolesChanged = !changes.rolesCreated.isEmpty || !changes.rolesRenamed.isEmpty
            || !changes.rolesMoved.isEmpty || !changes.rolesDeleted.isEmpty
        var permissionsGained = false
        if rolesChanged || changes.botStandingMayHaveChanged || changes.guildUpdated || changes.availability != nil {
            invalidatePlanner()
            checkStanding()
            let permissions = guild.botPermissions.intersection(.wardenRequired)
            permissionsGained = !permissions.subtracting(knownBotPermissions).isEmpty
            knownBotPermissions = permissions
        }
        if rolesChanged { followRoleCreations(changes, dispatch: dispatch, now: now) }

        // Chunk data only refreshes the cache; the audit that follows the completed fill checks everyone.
        let fromChunk = if case .guildMembersChunk = dispatch { true } else { false }
        for id in changes.membersAdded where !fromChunk { trigger(id, cause: .memberJoined, at: now) }
        for change in changes.membersChanged where !fromChunk && (change.rolesChanged || change.nickChanged) {
            let id = change.userID
            if busy.contains(id) { touchedWhileBusy.insert(id) }
            if let hope = expected[id] {
                // Our write's echo (or a newer truth from Discord): the cache is current again either way.
                expected[id] = nil
                if hope.roles == Set(change.after.roleIDs) && hope.nick == change.after.nick { continue }
            }
            trigger(id, cause: .manualEdit, at: now)
        }
        for change in changes.membersChanged where change.userChanged {
            await refreshStoredProfile(change.after)
        }
        for member in changes.membersRemoved {
            expected[member.userID] = nil
            await memberLeft(member.userID)
        }

        if twoFactorBlocked, changes.guildUpdated, guild.mfaLevel == .none {
            // The guild no longer requires 2FA: the refusal is over; the audit below retries the members refused.
            resolveTwoFactor()
            if guild.isMemberCacheComplete, !changes.memberFillCompleted { _ = audit(cause: .audit) }
        }
        if changes.guildRemoved {
            hooks.alert(.botRemoved, "", AlertCondition(
                message: "the bot was removed from the guild; add it back with `warden add-bot-url`",
                details: ["guild_id": .string(configuration.guildID.description)]))
        } else if changes.availability?.before == .removed {
            hooks.alert(.botRemoved, "", nil)
        }
        if changes.memberFillCompleted {
            logger.info("member cache complete", metadata: ["members": "\(guild.memberCount)", "roles": "\(guild.roleCount)"])
            _ = audit(cause: .audit)
        } else if rolesChanged || permissionsGained, guild.isMemberCacheComplete {
            // A permission back (SPEC 1.8): the members skipped with `missing_permissions` are checked again.
            _ = audit(cause: .roleChange)
        }
    }

    /// Keeps the memory of created roles in line with the guild (SPEC 1.2, "once" per existing role): a
    /// role that reached the cache, or a created one deleted or renamed, ends it; the members waiting for
    /// those names are planned again.
    private func followRoleCreations(_ changes: GuildChanges, dispatch: GatewayDispatch, now: C.Instant) {
        var replan: [Snowflake] = []
        if case .guildCreate = dispatch { replan += roleCreations.forgetCreated() }
        for id in changes.rolesDeleted.map(\.id) + changes.rolesRenamed.map(\.roleID) { replan += roleCreations.roleGone(id) }
        for id in changes.rolesCreated { if let name = guild.role(id)?.name { replan += roleCreations.roleAppeared(named: name) } }
        for rename in changes.rolesRenamed { replan += roleCreations.roleAppeared(named: rename.after) }
        for uid in replan { trigger(uid, cause: .roleChange, at: now) }
    }

    // MARK: - Auth's changes

    /// Reacts to a change in Auth's store (the admin API, linking, imports).
    public func handle(_ change: AuthStoreChange) async {
        let now = clock.now
        switch change {
        case .userChanged(let id, _):
            guard let stored = try? await store.user(id: id) else { return }
            users[id] = stored.user
            authRoleNames = AuthRoleNames(records: users.values)
            unlinkedCache = nil
            if let uid = users.uidOfUser[id] {
                endFight(uid)  // Auth changed this user: a paused fight resumes at once
                trigger(uid, cause: .authChange, at: now)
            }
        case .userDeleted(let id, let uid):
            users[id] = nil
            if let uid { forgetLink(uid) } else if let uid = users.uidOfUser[id] { forgetLink(uid) }
            authRoleNames = AuthRoleNames(records: users.values)
            unlinkedCache = nil
            if let uid, guild.contains(member: uid) { await kick(uid, userID: nil, reason: "Auth: user deleted", notify: false) }
        case .linked(let userID, let uid):
            users.link(uid: uid, userID: userID)
            if users[userID] == nil, let stored = try? await store.user(id: userID) { users[userID] = stored.user }
            noteUnlinked(uid, holdsAuthRoles: false)
            trigger(uid, cause: .link, at: now)
        case .unlinked(let userID, let uid):
            if users.userOfUID[uid] == userID { forgetLink(uid) }
        case .reservedGroupNamesChanged:
            reservedNames = (try? await store.reservedGroupNames()) ?? reservedNames
            invalidatePlanner()
            checkStanding()  // a reserved role is no longer Auth-managed (roles_unmanageable)
            if guild.isMemberCacheComplete { _ = audit(cause: .roleChange) }
        }
    }

    private func forgetLink(_ uid: Snowflake) {
        users.unlink(uid)
        skipped[uid] = nil
        observed[uid] = nil
        failed[uid] = nil
    }

    // MARK: - Triggers and audits

    /// Checks one Auth user's member now (a task, an API call).
    public func enforce(userID: Int64, cause: EnforcementCause,
                        onSettled: (@Sendable (Snowflake, SettleOutcome) -> Void)? = nil) {
        guard let uid = users.uidOfUser[userID] else { onSettled?(0, .absent); return }
        if let onSettled { watch(uid, onSettled) }
        trigger(uid, cause: cause, at: clock.now)
    }

    /// True while the user's member has a check queued or a write in flight.
    public func isPending(userID: Int64) -> Bool {
        guard let uid = users.uidOfUser[userID] else { return false }
        return triggers[uid] != nil || busy.contains(uid) || roleCreations.isWaiting(uid)
    }

    /// A full audit from the cache, with no REST reads: every linked member in the guild is checked
    /// against Auth and the wrong ones are queued. `onSettled` is called once per queued member.
    public func audit(cause: EnforcementCause, onSettled: (@Sendable (Snowflake, SettleOutcome) -> Void)? = nil) -> AuditReport {
        guard let planner = planner() else { return AuditReport(checked: 0, wrong: 0, unlinkedWithAuthRoles: 0) }
        let now = clock.now
        roleCreations.retryFailed()  // a failed role creation is retried at the next audit
        var checked = 0
        var wrong: [Snowflake] = []
        // Linked users without access whose account is not in the guild: only their link is left to end.
        var revoked: [Snowflake] = []
        // Per member: no `Member`, no Auth record, no string, no allocation. Each linked user's wish was
        // built when its record changed; the roster's names are resolved once here; the member's roles
        // and nickname are read from the cache into two buffers reused for the whole audit.
        let guild = self.guild, roster = users.roster
        let check = planner.check(roster)
        var roles: [Snowflake] = []
        var nickUTF8: [UInt8] = []
        roles.reserveCapacity(32)
        nickUTF8.reserveCapacity(128)
        let anyExpected = !expected.isEmpty, anySkipped = !skipped.isEmpty
        for position in 0..<roster.count {
            let uid = roster.entries[position].uid
            guard guild.readMember(uid, roleIDs: &roles, nickUTF8: &nickUTF8) else {
                // A user without access is unlinked whether or not its account is in the guild (SPEC 1.4).
                if !roster.entries[position].hasAccess { revoked.append(uid) }
                continue
            }
            checked += 1
            if anyExpected, let hope = expected[uid], now < hope.until {
                roles = Array(hope.roles)
                nickUTF8 = Array((hope.nick ?? "").utf8)
            }
            if !check.isInSync(position, roles: roles, nickUTF8: nickUTF8) || (anySkipped && skipped[uid] != nil) {
                wrong.append(uid)
            }
        }
        for uid in wrong {
            if let onSettled { watch(uid, onSettled) }
            trigger(uid, cause: cause, at: now)
        }
        for uid in revoked { trigger(uid, cause: cause, at: now) }
        let unlinked = checkUnlinkedMembers(now: now)
        return AuditReport(checked: checked, wrong: wrong.count, unlinkedWithAuthRoles: unlinked)
    }

    /// The Auth users whose member is in the guild (what a bulk task covers).
    public func linkedUsersInGuild() -> [Int64] {
        users.userOfUID.compactMap { uid, user in guild.contains(member: uid) ? user : nil }
    }

    private func checkUnlinkedMembers(now: C.Instant) -> Int {
        guard configuration.unlinkedMembers != .ignore, let unlinked = unlinkedMembers() else { return 0 }
        var count = 0
        var report: Set<Snowflake> = []
        let userOfUID = users.userOfUID
        guild.forEachMemberRoles { uid, isBot, roles in
            guard userOfUID[uid] == nil, !isBot else { return }
            guard unlinked.holdsAuthManagedRoles(roles: roles, isBot: isBot) else { return }
            count += 1
            report.insert(uid)
        }
        if configuration.unlinkedMembers == .strip {
            for uid in report { trigger(uid, cause: .audit, at: now) }
        } else {
            publishUnlinkedReport(report)
        }
        return count
    }

    /// `report` policy (SPEC 1.4): the unlinked members holding Auth-managed roles are listed in status
    /// and in the `unlinked_members` alert, kept current as members change, leave, or are linked.
    private func publishUnlinkedReport(_ report: Set<Snowflake>) {
        guard report != reportedUnlinked else { return }
        let grew = !report.isSubset(of: reportedUnlinked)
        reportedUnlinked = report
        publishUnlinkedReport(grew: grew)
    }

    /// One member joins or leaves the report, changed in place (no copy of the set per event).
    private func noteUnlinked(_ uid: Snowflake, holdsAuthRoles: Bool) {
        if holdsAuthRoles {
            if reportedUnlinked.insert(uid).inserted { publishUnlinkedReport(grew: true) }
        } else if reportedUnlinked.remove(uid) != nil {
            publishUnlinkedReport(grew: false)
        }
    }

    private func publishUnlinkedReport(grew: Bool) {
        let report = reportedUnlinked
        if grew { logger.warning("unlinked members hold Auth-managed roles", metadata: ["count": "\(report.count)"]) }
        let listed = report.sorted().prefix(100)
        hooks.alert(.unlinkedMembers, "", report.isEmpty ? nil : AlertCondition(
            message: "\(report.count) unlinked member(s) hold Auth-managed roles (unlinked_members: report)",
            details: ["count": .number(Double(report.count)),
                      "discord_uids": .array(listed.map { .string($0.description) })]))
    }

    /// Calls `callback` with the outcome of the check about to be triggered for `uid`. While a write to the
    /// member is in flight the cache may not show it yet (its answer and echo are on their way), so the
    /// check runs as the re-check after that write, and `callback` gets the re-check's outcome: a bulk
    /// task that finds a member mid-correction counts what it did itself, not the write it found.
    private func watch(_ uid: Snowflake, _ callback: @escaping @Sendable (Snowflake, SettleOutcome) -> Void) {
        if busy.contains(uid) {
            watchersAfterWrite[uid, default: []].append(callback)
        } else {
            watchers[uid, default: []].append(callback)
        }
    }

    private func trigger(_ uid: Snowflake, cause: EnforcementCause, at now: C.Instant) {
        guard !stopped else { resumeIdleWaiters(); return }
        if busy.contains(uid) {
            // Re-checked against the newest state when the write in flight completes.
            if recheck[uid] == nil { recheck[uid] = Trigger(cause: cause, at: now) }
            return
        }
        if triggers[uid] == nil { triggers[uid] = Trigger(cause: cause, at: now) }
        queue.append(uid)
        pump()
    }

    // MARK: - Housekeeping

    /// Expires echo expectations and ends paused fights whose hour is over. The daemon calls it about
    /// once a second.
    public func housekeeping() {
        let now = clock.now
        for uid in roleCreations.expire(now: now) { trigger(uid, cause: .roleChange, at: now) }
        for (uid, hope) in expected where hope.until <= now {
            expected[uid] = nil
            trigger(uid, cause: .audit, at: now)
        }
        for (uid, fight) in fights {
            if let until = fight.blockedUntil, until <= now {
                endFight(uid)
                trigger(uid, cause: .audit, at: now)
            } else if fight.blockedUntil == nil, let last = fight.corrections.last,
                      last.advanced(by: configuration.fightWindow) <= now {
                fights[uid] = nil
            }
        }
    }

    private func endFight(_ uid: Snowflake) {
        guard let fight = fights.removeValue(forKey: uid), fight.blockedUntil != nil else { return }
        if skipped[uid] == SkipReasonText.roleFight { skipped[uid] = nil }
        hooks.alert(.roleFight, uid.description, nil)
    }

    /// Stops taking new work (shutdown). Writes in flight finish.
    public func stop() {
        stopped = true
        queue.removeAll()
        roleCreations.dropQueue()
        recheck.removeAll()
        for lane in laneBacklog.keys { laneBacklog[lane]?.removeAll() }
        resumeIdleWaiters()
    }

    /// Returns once nothing is queued or in flight (no role creation either). For tests and shutdown.
    public func idle() async {
        if isIdle { return }
        let id = nextIdleWaiter
        nextIdleWaiter += 1
        // Cancellable, so a caller can bound the wait (shutdown gives writes in flight 10 s).
        await withTaskCancellationHandler {
            await withCheckedContinuation { idleWaiters[id] = $0 }
        } onCancel: {
            Task { await self.releaseIdleWaiter(id) }
        }
    }

    private func releaseIdleWaiter(_ id: Int) {
        idleWaiters.removeValue(forKey: id)?.resume()
    }

    private var isIdle: Bool {
        pendingWrites == 0 && roleCreations.inFlight == nil && !savingRecords && (roleCreations.queue.isEmpty || !configuration.enforce)
    }

    private func resumeIdleWaiters() {
        guard isIdle, !idleWaiters.isEmpty else { return }
        let waiters = idleWaiters.values
        idleWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    /// Members with a write queued or in flight.
    public var pendingWrites: Int {
        queue.count + busy.count + recheck.count + laneBacklog.values.reduce(0) { $0 + $1.count }
    }

    // MARK: - The pump

    private func pump() {
        // Stopped: nothing new starts, but a shutdown waiting in `idle()` learns that the last write finished.
        guard !stopped else { resumeIdleWaiters(); return }
        for lane in [Lane.memberEdit, .memberRole] {
            while laneLoad[lane, default: 0] < configuration.writesPerLane, let uid = laneBacklog[lane]?.popFirst() {
                guard !busy.contains(uid), let work = work(for: uid, now: clock.now) else { continue }
                launch(work, uid: uid)
            }
        }
        while let uid = queue.popFirst() {
            guard !busy.contains(uid), let work = work(for: uid, now: clock.now) else { continue }
            if laneLoad[work.lane, default: 0] < configuration.writesPerLane {
                launch(work, uid: uid)
            } else {
                // Planned again, from the newest state, when its lane has room.
                laneBacklog[work.lane, default: MemberQueue()].append(uid)
                if laneLoad[.memberEdit, default: 0] >= configuration.writesPerLane,
                   laneLoad[.memberRole, default: 0] >= configuration.writesPerLane { break }
            }
        }
        startRoleCreation()
        resumeIdleWaiters()
    }

    private enum Work {
        case kick(userID: Int64?)
        /// A user without access whose account is not in the guild: only its link is ended (no request).
        case unlink(userID: Int64)
        case member(MemberPlan, cause: EnforcementCause)

        var lane: Lane {
            switch self {
            case .kick, .unlink: .memberEdit
            case .member(let plan, _):
                plan.nickname == nil && plan.rolesToAdd.count + plan.rolesToRemove.count == 1 ? .memberRole : .memberEdit
            }
        }
    }

    /// What to send for a member now, from the freshest state; nil when nothing (the member is settled).
    private func work(for uid: Snowflake, now: C.Instant) -> Work? {
        let cause = triggers[uid]?.cause ?? .audit
        roleCreations.stopWaiting(uid)  // planned again from here
        guard let member = guild.member(uid) else { return workOutsideTheGuild(uid) }
        // Removed or in an outage: Discord would refuse every write (403 50001 counts as invalid). The
        // audit after the guild's member list is filled again checks everyone.
        guard guild.availability == .available else { settle(uid, .skipped("guild unavailable")); return nil }
        guard let planner = planner() else { settle(uid, .skipped("cache not ready")); return nil }
        let state = currentState(of: uid, member: member, now: now)

        var plan: MemberPlan
        var userID: Int64?
        if let linkedUser = users.userOfUID[uid], let user = users[linkedUser] {
            userID = linkedUser
            plan = planner.plan(for: user, memberID: uid, roles: state.roles, nick: state.nick)
        } else if configuration.unlinkedMembers == .strip, !member.isBot, let unlinked = unlinkedMembers(),
                  let strip = unlinked.stripPlan(for: GuildMember(user: member.user, nick: state.nick, roles: state.roles),
                                                 index: planner.index) {
            plan = strip
            if !planner.botPermissions.contains(.manageRoles) {
                plan = MemberPlan(memberID: uid, desiredRoles: strip.desiredRoles + strip.rolesToRemove,
                                  skips: [PlanSkip(reason: .missingPermissions, roles: strip.rolesToRemove)])
            }
        } else {
            if configuration.unlinkedMembers == .report, users.userOfUID[uid] == nil, let unlinked = unlinkedMembers() {
                noteUnlinked(uid, holdsAuthRoles: !member.isBot
                             && unlinked.holdsAuthManagedRoles(roles: state.roles, isBot: member.isBot))
            }
            settle(uid, .inSync)
            return nil
        }

        // A role to create: the member waits for it (never settled "ok" before it has it), or, when its
        // creation failed since the last audit, is settled failed.
        var creationFailed: String?
        if configuration.enforce {
            for name in plan.rolesToCreate where roleCreations.need(name, by: uid) == .failed { creationFailed = name }
            if creationFailed != nil { roleCreations.stopWaiting(uid) }  // settled failed, after any other write
        }

        if !plan.needsWrite || (!plan.kick && !plan.changesMember) {
            if let reason = plan.skipReasons.first.map(\.rawValue) {
                settle(uid, .skipped(reason), userID: userID)
            } else if !plan.rolesToCreate.isEmpty, !configuration.enforce {
                logger.notice("observe-only: would change member", metadata: ["discord_uid": "\(uid)", "change": "\(plan.change)"])
                settle(uid, .observed(plan.change), userID: userID)
            } else if let creationFailed {
                settle(uid, Self.roleCreationFailed(creationFailed), userID: userID)
            } else if roleCreations.isWaiting(uid) {
                triggers[uid] = nil  // pending until the role appears (or its creation fails)
            } else {
                settle(uid, .inSync, userID: userID)
            }
            return nil
        }

        if !configuration.enforce {
            logger.notice("observe-only: would change member", metadata: ["discord_uid": "\(uid)", "change": "\(plan.change)"])
            settle(uid, .observed(plan.change), userID: userID)
            return nil
        }

        if plan.kick { return .kick(userID: userID) }
        return .member(plan, cause: cause)
    }

    /// A triggered member that is not in the guild. A linked user without access loses its link all the
    /// same (SPEC 1.4), once the complete member cache shows the account is really not there.
    private func workOutsideTheGuild(_ uid: Snowflake) -> Work? {
        guard let userID = users.userOfUID[uid], users[userID]?.hasAccess == false,
              guild.availability == .available, guild.isMemberCacheComplete else {
            settle(uid, .absent)
            return nil
        }
        guard configuration.enforce else {
            logger.notice("observe-only: would unlink", metadata: ["discord_uid": "\(uid)", "user_id": "\(userID)"])
            settle(uid, .observed("unlink (no access to Discord; not in the guild)"), userID: userID)
            return nil
        }
        return .unlink(userID: userID)
    }

    /// Starts a planned write, unless the fight guard (SPEC 1.5) stops it: only corrections of changes
    /// made on Discord count toward `fight_limit`.
    private func launch(_ work: Work, uid: Snowflake) {
        let now = clock.now
        // A member left alone after a fight is written by no trigger at all (an audit, a role change, a
        // task) until the pause is over; an Auth change to the user ends the fight before it gets here.
        if let until = fights[uid]?.blockedUntil, now < until {
            settle(uid, .skipped(SkipReasonText.roleFight), userID: users.userOfUID[uid])
            return
        }
        if case .member(_, let cause) = work, cause == .manualEdit {
            let userID = users.userOfUID[uid]
            var fight = fights[uid] ?? FightRecord()
            fight.corrections.removeAll { $0.advanced(by: configuration.fightWindow) <= now }
            if fight.corrections.count >= configuration.fightLimit {
                fight.blockedUntil = now.advanced(by: configuration.fightPause)
                fights[uid] = fight
                logger.warning("role fight: member left alone", metadata: ["discord_uid": "\(uid)"])
                hooks.alert(.roleFight, uid.description, AlertCondition(
                    message: "something keeps undoing Warden's changes on member \(uid); Warden stopped writing it for an hour or until Auth's record changes",
                    details: ["discord_uid": .string(uid.description),
                              "user_id": userID.map { .number(Double($0)) } ?? .null,
                              "corrections": .number(Double(fight.corrections.count))]))
                settle(uid, .skipped(SkipReasonText.roleFight), userID: userID)
                return
            }
            fight.corrections.append(now)
            fights[uid] = fight
        }
        let lane = work.lane
        busy.insert(uid)
        laneLoad[lane, default: 0] += 1
        let trigger = triggers[uid]
        Task { await self.perform(work, uid: uid, lane: lane, trigger: trigger) }
    }

    private func perform(_ work: Work, uid: Snowflake, lane: Lane, trigger: Trigger?) async {
        let member = guild.member(uid)
        switch work {
        case .kick(let userID):
            await kick(uid, userID: userID, reason: "Auth: no access to Discord", notify: true)
            finish(uid, lane: lane)
        case .unlink(let userID):
            await unlink(uid, userID: userID, notify: true)
            logger.info("user without access unlinked (the account is not in the guild)",
                        metadata: ["discord_uid": "\(uid)", "user_id": "\(userID)"])
            settle(uid, .written, userID: userID)
            finish(uid, lane: lane)
        case .member(let plan, let cause):
            let reason = cause.auditLogReason + ": " + plan.change
            do {
                if plan.nickname == nil, plan.rolesToAdd.count == 1, plan.rolesToRemove.isEmpty {
                    try await writer.addRole(plan.rolesToAdd[0], to: uid, reason: reason)
                } else if plan.nickname == nil, plan.rolesToRemove.count == 1, plan.rolesToAdd.isEmpty {
                    try await writer.removeRole(plan.rolesToRemove[0], from: uid, reason: reason)
                } else {
                    try await writer.modifyMember(uid, roles: plan.changesRoles ? plan.desiredRoles : nil,
                                                  nick: plan.nickname, reason: reason)
                }
                let now = clock.now
                if touchedWhileBusy.remove(uid) == nil {
                    expected[uid] = ExpectedMember(roles: Set(plan.desiredRoles), nick: plan.nickname ?? member?.nick,
                                                   until: now.advanced(by: configuration.echoTimeout))
                }
                if twoFactorBlocked { resolveTwoFactor() }
                hooks.correction(cause, trigger.map { $0.at.duration(to: now) })
                logger.info("member corrected", metadata: ["discord_uid": "\(uid)", "cause": "\(cause.rawValue)", "change": "\(plan.change)"])
                if roleCreations.isWaiting(uid) {
                    triggers[uid] = nil  // the rest waits for a role to be created
                } else if let name = plan.rolesToCreate.first(where: roleCreations.hasFailed) {
                    settle(uid, Self.roleCreationFailed(name), userID: users.userOfUID[uid])
                } else if let reason = plan.skipReasons.first {
                    settle(uid, .skipped(reason.rawValue), userID: users.userOfUID[uid])  // what was sent is not all
                } else {
                    settle(uid, .written, userID: users.userOfUID[uid])
                }
            } catch {
                await writeFailed(uid, error: error)
            }
            finish(uid, lane: lane)
        }
    }

    private func finish(_ uid: Snowflake, lane: Lane) {
        busy.remove(uid)
        touchedWhileBusy.remove(uid)
        if let waiting = watchersAfterWrite.removeValue(forKey: uid) { watchers[uid, default: []].append(contentsOf: waiting) }
        laneLoad[lane, default: 1] -= 1
        // Anything that arrived meanwhile is re-checked against the newest state.
        if let again = recheck.removeValue(forKey: uid), !stopped {
            triggers[uid] = again
            queue.append(uid)
        }
        pump()
    }

    private func writeFailed(_ uid: Snowflake, error: any Error) async {
        let userID = users.userOfUID[uid]
        guard let rest = error as? DiscordRESTError else {
            settle(uid, .failed(String(describing: error)), userID: userID)
            return
        }
        switch rest {
        case .unknownMember:
            await memberLeft(uid)
            settle(uid, .absent)
        case .tokenInvalid:
            stopped = true
            hooks.fatal(rest)
            settle(uid, .failed(rest.description), userID: userID)
        case .writesPaused:
            // Not sent (SPEC 1.8): `rate_limit_danger` says why; the audit when writes resume retries it.
            settle(uid, .failed(rest.description), userID: userID)
        default:
            if rest.has(.twoFactorRequired) {
                twoFactorBlocked = true
                hooks.alert(.twoFactorRequired, "", AlertCondition(
                    message: "Discord answered 60003: the guild requires 2FA for moderation and the bot owner's account has none; enable 2FA on the bot owner's Discord account"))
            }
            if case .cloudflareBan(let retryAfter) = rest {
                hooks.alert(.rateLimitDanger, "", AlertCondition(
                    message: "Cloudflare banned this address (429 without JSON); REST requests stopped for \(retryAfter)"))
            }
            logger.error("member write failed", metadata: ["discord_uid": "\(uid)", "error": "\(rest)"])
            settle(uid, .failed(rest.description), userID: userID)
        }
    }

    /// Discord accepts writes again (the guild dropped its 2FA requirement, or the owner enabled 2FA).
    private func resolveTwoFactor() {
        twoFactorBlocked = false
        hooks.alert(.twoFactorRequired, "", nil)
    }

    // MARK: - Kicks, leaves, profiles

    /// Refreshes the stored Discord username, discriminator and global name of linked users from the
    /// cache (all of them when `userIDs` is nil). No REST call. Returns how many changed.
    public func refreshStoredProfiles(userIDs: [Int64]?) async -> Int {
        var accounts: [User] = []
        for (uid, userID) in users.userOfUID where userIDs?.contains(userID) ?? true {
            if let member = guild.member(uid) { accounts.append(member.user) }
        }
        guard !accounts.isEmpty else { return 0 }
        return (try? await store.updateDiscordProfiles(accounts)) ?? 0
    }

    /// Deactivates a user's Discord account (SPEC 1.9): kicks the member if it is in the guild, then
    /// unlinks. Returns false when the user had no link. Throws when Discord refused the kick (the link
    /// is kept then, so the operator can see and retry).
    public func deactivate(userID: Int64, reason: String, notify: Bool) async throws -> Bool {
        guard let uid = users.uidOfUser[userID] else {
            return try await store.unlink(.user(userID)) != nil
        }
        var heldBack: SettleOutcome?
        if guild.contains(member: uid) {
            heldBack = kickHeldBack(uid, reason: reason)
            if heldBack == nil {
                kicking.insert(uid)
                defer { kicking.remove(uid) }
                do {
                    try await writer.kick(uid, reason: reason)
                } catch DiscordRESTError.unknownMember {
                    // Already gone.
                }
            }
        }
        _ = try await store.unlink(.user(userID), notification: notify ? Self.accountDisabled : nil)
        forgetLink(uid)
        // Listed after the unlink (which clears the member's entries): the kick that was not sent.
        if let heldBack { settle(uid, heldBack, userID: userID) }
        logger.info("Discord account deactivated", metadata: ["discord_uid": "\(uid)", "user_id": "\(userID)"])
        return true
    }

    /// Why a kick of `uid` is not sent (SPEC 1.5): Discord would refuse it (the owner, a member ranking at
    /// or above the bot) or Warden only observes. Nil: send it.
    private func kickHeldBack(_ uid: Snowflake, reason: String) -> SettleOutcome? {
        if uid == guild.ownerID { return .skipped(SkipReason.owner.rawValue) }
        if !guild.canModerate(member: uid) { return .skipped(SkipReason.memberAboveBot.rawValue) }
        if !guild.botPermissions.contains(.kickMembers) { return .skipped(SkipReason.missingPermissions.rawValue) }
        if !configuration.enforce {
            logger.notice("observe-only: would kick", metadata: ["discord_uid": "\(uid)", "reason": "\(reason)"])
            return .observed("kick (\(reason))")
        }
        return nil
    }

    private func kick(_ uid: Snowflake, userID: Int64?, reason: String, notify: Bool) async {
        if let heldBack = kickHeldBack(uid, reason: reason) {
            settle(uid, heldBack, userID: userID)
            return
        }
        kicking.insert(uid)
        defer { kicking.remove(uid) }
        do {
            try await writer.kick(uid, reason: reason)
        } catch DiscordRESTError.unknownMember {
            // Already gone: the outcome is the same.
        } catch {
            logger.error("kick failed", metadata: ["discord_uid": "\(uid)", "error": "\(error)"])
            settle(uid, .failed(String(describing: error)), userID: userID)
            return
        }
        if let userID { await unlink(uid, userID: userID, notify: notify) }
        logger.info("member kicked", metadata: ["discord_uid": "\(uid)", "reason": "\(reason)"])
        settle(uid, .written, userID: userID)
    }

    /// The "Discord account disabled" notification (SPEC 1.4).
    static var accountDisabled: (kind: AuthNotification.Kind, message: String) {
        (.accountDisabled, "Your Discord account was disabled automatically by Auth. If you think this was a mistake, please contact an admin.")
    }

    /// Ends the link of a user whose access is gone (kicked, or not in the guild at all).
    private func unlink(_ uid: Snowflake, userID: Int64, notify: Bool) async {
        _ = try? await store.unlink(.user(userID), notification: notify ? Self.accountDisabled : nil)
        forgetLink(uid)
    }

    private func memberLeft(_ uid: Snowflake) async {
        noteUnlinked(uid, holdsAuthRoles: false)
        guard !kicking.contains(uid), let userID = users.userOfUID[uid] else { return }
        forgetLink(uid)
        _ = try? await store.unlink(.uid(uid), notification: (
            kind: .leftGuild, message: "Your Discord account left the server and was unlinked. Link it again to rejoin."))
        _ = try? await store.removeEnforcement(userID: userID, discordUID: uid)
        logger.info("linked member left the guild: unlinked", metadata: ["discord_uid": "\(uid)", "user_id": "\(userID)"])
    }

    private func refreshStoredProfile(_ member: GuildState.Member) async {
        guard users.userOfUID[member.userID] != nil else { return }
        _ = try? await store.updateDiscordProfile(member.user)
    }

    // MARK: - Role creation (serialised: two triggers never create the same role twice)

    private func startRoleCreation() {
        guard configuration.enforce, !stopped else { return }
        while let name = roleCreations.next() {
            // Made meanwhile by someone else, or no longer allowed: not sent. The members waiting for it
            // are planned again against the cache (the plan skips what the bot may not do).
            guard guild.roles(named: name).isEmpty, planner()?.botPermissions.contains(.manageRoles) == true else {
                for uid in roleCreations.notSent(name) { trigger(uid, cause: .roleChange, at: clock.now) }
                continue
            }
            Task { await self.createRole(name) }
            return
        }
    }

    static func roleCreationFailed(_ name: String) -> SettleOutcome {
        .failed("creating role \"\(name)\" failed; retried at the next audit")
    }

    private func createRole(_ name: String) async {
        var replan: [Snowflake] = []
        do {
            let role = try await writer.createRole(named: name, reason: "Auth: role for group \"\(name)\"")
            roleCreations.created(name, id: role.id, until: clock.now.advanced(by: configuration.roleEchoTimeout))
            // Its GUILD_ROLE_CREATE may have come before the answer: then the cache answers for it already.
            if guild.role(role.id) != nil { replan = roleCreations.roleAppeared(named: name) }
            logger.info("role created", metadata: ["role": "\(name)", "role_id": "\(role.id)"])
        } catch {
            // The members waiting for it are planned again and settled failed until the next audit.
            replan = roleCreations.creationFailed(name)
            logger.error("role creation failed; retried at the next audit", metadata: ["role": "\(name)", "error": "\(error)"])
        }
        for uid in replan { trigger(uid, cause: .roleChange, at: clock.now) }
        startRoleCreation()
        resumeIdleWaiters()
    }

    // MARK: - Settling and status

    private func settle(_ uid: Snowflake, _ outcome: SettleOutcome, userID: Int64? = nil) {
        triggers[uid] = nil
        switch outcome {
        case .skipped(let reason):
            skipped[uid] = reason; observed[uid] = nil; failed[uid] = nil
        case .observed(let change):
            observed[uid] = change; skipped[uid] = nil; failed[uid] = nil
        case .failed(let reason):
            failed[uid] = reason; skipped[uid] = nil
            hooks.writeFailed()
        case .inSync, .written, .absent:
            skipped[uid] = nil; observed[uid] = nil; failed[uid] = nil
        }
        record(uid, outcome, userID: userID ?? users.userOfUID[uid])
        if let callbacks = watchers.removeValue(forKey: uid) {
            for callback in callbacks { callback(uid, outcome) }
        }
    }

    /// Persists the outcome when its state changed (an audit of members in sync writes nothing).
    private func record(_ uid: Snowflake, _ outcome: SettleOutcome, userID: Int64?) {
        let state: EnforcementRecord.State
        let reason: String?
        switch outcome {
        case .inSync, .written: state = .ok; reason = nil
        case .skipped(let text): state = .skipped; reason = text
        case .failed(let text): state = .failed; reason = text
        case .observed(let text): state = .observed; reason = text
        case .absent: return
        }
        guard userID != nil || state != .ok else { return }
        if lastRecorded[uid] == state, state == .ok { return }
        lastRecorded[uid] = state
        unsavedRecords[uid] = EnforcementOutcome(userID: userID, discordUID: uid, state: state, reason: reason)
        guard !savingRecords else { return }
        savingRecords = true
        Task { await self.saveRecords() }
    }

    private func saveRecords() async {
        while !unsavedRecords.isEmpty {
            let batch = Array(unsavedRecords.values)
            unsavedRecords = [:]
            do {
                try await store.recordEnforcements(batch)
            } catch {
                // One bad record (a user deleted meanwhile) must not lose the others.
                for outcome in batch { _ = try? await store.recordEnforcement(outcome) }
            }
        }
        savingRecords = false
        resumeIdleWaiters()
    }

    /// Linked users whose Discord account is known (`warden_linked_users`).
    public var linkedUserCount: Int { users.userOfUID.count }

    /// What `/api/status` shows of enforcement.
    public func status() -> EnforcementStatus {
        EnforcementStatus(
            linkedUsers: users.userOfUID.count,
            pendingWrites: pendingWrites,
            skipped: skipped.map { SkippedMember(userID: users.userOfUID[$0.key], discordUID: $0.key, name: displayName($0.key), reason: $0.value) }
                + reportedUnlinked.map { SkippedMember(userID: nil, discordUID: $0, name: displayName($0), reason: "unlinked_member") },
            observed: observed.map {
                ObservedChange(userID: users.userOfUID[$0.key], discordUID: $0.key, name: displayName($0.key), change: $0.value)
            },
            failed: failed.map { SkippedMember(userID: users.userOfUID[$0.key], discordUID: $0.key, name: displayName($0.key), reason: $0.value) })
    }

    /// What Discord shows for a cached member (nick, global name, username).
    private func displayName(_ uid: Snowflake) -> String? { guild.member(uid)?.displayName }

    // MARK: - Derived state

    private func invalidatePlanner() {
        plannerCache = nil
        unlinkedCache = nil
    }

    private func planner() -> MemberPlanner? {
        if let plannerCache { return plannerCache }
        guard let ownerID = guild.ownerID, guild.everyoneRole != nil else { return nil }
        let planner = MemberPlanner(roles: guild.roles, guildID: configuration.guildID, ownerID: ownerID,
                                    botHighestRole: guild.botHighestRole, reservedGroupNames: reservedNames,
                                    config: configuration.roleSync, botPermissions: guild.botPermissions)
        plannerCache = planner
        return planner
    }

    private func unlinkedMembers() -> UnlinkedMembers? {
        if let unlinkedCache { return unlinkedCache }
        guard let planner = planner() else { return nil }
        let unlinked = UnlinkedMembers(index: planner.index, authRoleNames: authRoleNames, ownerID: planner.ownerID)
        unlinkedCache = unlinked
        return unlinked
    }

    /// The member's roles and nick: the cache, or what a just-completed write made them until its echo arrives.
    private func currentState(of uid: Snowflake, member: GuildState.Member, now: C.Instant) -> (roles: [Snowflake], nick: String?) {
        if let hope = expected[uid], now < hope.until { return (Array(hope.roles), hope.nick) }
        return (member.roleIDs, member.nick)
    }

    /// Re-evaluates the bot's standing alerts from the cache.
    private func checkStanding() {
        guard guild.availability == .available, let botUser = guild.botUser, guild.member(botUser.id) != nil else { return }
        let above = guild.rolesAboveBot
        hooks.alert(.botRoleNotTop, "", above.isEmpty ? nil : AlertCondition(
            message: "roles rank above the bot's highest role: \(above.prefix(5).map { "\"\($0.name)\"" }.joined(separator: ", ")); drag the bot's role to the top",
            details: ["roles": .array(above.map { .string($0.name) })]))

        var missing = Set(guild.missingBotPermissions())
        if !configuration.roleSync.syncNames { missing.remove("MANAGE_NICKNAMES") }
        let missingNames = missing.sorted()
        hooks.alert(.missingPermissions, "", missingNames.isEmpty ? nil : AlertCondition(
            message: "the bot lacks \(missingNames.joined(separator: ", "))",
            details: ["missing": .array(missingNames.map { .string($0) })]))

        if let planner = planner() {
            let authNames = AuthRoleNames(records: users.values)
            let unmanageable = guild.roles.filter { role in
                guard let facts = planner.index.facts(role.id) else { return false }
                return !facts.managed && !facts.reserved && !facts.manageable && authNames.contains(facts.name)
            }
            if unmanageable.isEmpty {
                hooks.alert(.rolesUnmanageable, "", nil)
            } else {
                let ids = Set(unmanageable.map(\.id))
                var affected = 0
                guild.forEachMember { member in if member.roleIDs.contains(where: ids.contains) { affected += 1 } }
                hooks.alert(.rolesUnmanageable, "", AlertCondition(
                    message: "\(unmanageable.count) Auth-managed role(s) rank at or above the bot and cannot be managed: \(unmanageable.prefix(5).map { "\"\($0.name)\"" }.joined(separator: ", ")); \(affected) member(s) affected",
                    details: ["roles": .array(unmanageable.map { .string($0.name) }), "members_affected": .number(Double(affected))]))
            }
        }
    }
}

enum SkipReasonText {
    static let roleFight = "role_fight"
}

/// Enforcement's part of `/api/status`.
public struct EnforcementStatus: Sendable, Hashable {
    public var linkedUsers: Int
    public var pendingWrites: Int
    public var skipped: [SkippedMember]
    public var observed: [ObservedChange]
    public var failed: [SkippedMember]
}

/// A FIFO of member ids without duplicates.
struct MemberQueue: Sendable {
    private var items: [Snowflake] = []
    private var head = 0
    private var members: Set<Snowflake> = []

    var count: Int { members.count }

    mutating func append(_ id: Snowflake) {
        guard members.insert(id).inserted else { return }
        items.append(id)
    }

    mutating func popFirst() -> Snowflake? {
        while head < items.count {
            let id = items[head]
            head += 1
            if head > 1024, head * 2 > items.count { items.removeFirst(head); head = 0 }
            if members.remove(id) != nil { return id }
        }
        return nil
    }

    mutating func removeAll() {
        items.removeAll()
        head = 0
        members.removeAll()
    }
}
