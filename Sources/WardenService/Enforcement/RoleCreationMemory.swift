import DiscordModels

/// What the enforcer remembers of the roles it creates (SPEC 1.2: "once" is per existing role).
///
/// - Creation is serialised: names wait in `queue` and one POST is in flight at a time, so two triggers
///   never create the same role twice.
/// - A role Discord created is remembered (by name and id) only until the guild's cache can answer for
///   it: its GUILD_ROLE_CREATE arrives, or the role is deleted or renamed first, a GUILD_CREATE lists
///   every role, or (a safety net for an event that never came) `until` passes. After
///   that the cache alone says whether the role exists, so a created role deleted later is created again
///   for the next member who needs it.
/// - A member whose plan needs a role created *waits* for it: it is not settled "ok" while the role is
///   still to be created. It is planned again when the role appears, when the creation fails (then it is
///   settled failed) or when the memory of the creation ends without the role.
/// - A name whose creation failed is not tried again until the next audit (`retryFailed`).
///
/// A pure value fed by the enforcer; every method that ends a wait returns the members to plan again.
struct RoleCreationMemory<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// Names to create, oldest first.
    private(set) var queue: [String] = []
    /// The name whose POST is in flight.
    private(set) var inFlight: String?
    /// Created by Warden, not yet in the cache: the role's id and until when it is awaited.
    private var created: [String: (id: Snowflake, until: Instant)] = [:]
    private var failed: Set<String> = []
    /// The members waiting for roles to be created, with the names each waits for.
    private var waiting: [Snowflake: Set<String>] = [:]

    /// What became of a member's need for a role.
    enum Need: Equatable {
        /// The member waits for the role (queued, in flight, or created and not in the cache yet).
        case waiting
        /// Its creation failed since the last audit: the member is settled failed.
        case failed
    }

    /// A creation is queued or in flight.
    var isBusy: Bool { inFlight != nil || !queue.isEmpty }

    func isWaiting(_ uid: Snowflake) -> Bool { waiting[uid] != nil }

    /// Creating `name` failed since the last audit.
    func hasFailed(_ name: String) -> Bool { failed.contains(name) }

    /// Member `uid` needs the role `name` (a cut role name no role of the cache has) created.
    mutating func need(_ name: String, by uid: Snowflake) -> Need {
        if failed.contains(name) { return .failed }
        waiting[uid, default: []].insert(name)
        if inFlight != name, created[name] == nil, !queue.contains(name) { queue.append(name) }
        return .waiting
    }

    /// The member no longer waits (it is being planned again, it left or was unlinked).
    mutating func stopWaiting(_ uid: Snowflake) {
        waiting[uid] = nil
    }

    /// The next name to create, now in flight; nil while one is in flight or none is queued.
    mutating func next() -> String? {
        guard inFlight == nil, !queue.isEmpty else { return nil }
        let name = queue.removeFirst()
        inFlight = name
        return name
    }

    /// Discord created the role in flight (as role `id`): awaited until its GUILD_ROLE_CREATE, at most
    /// until `until`.
    mutating func created(_ name: String, id: Snowflake, until: Instant) {
        if inFlight == name { inFlight = nil }
        created[name] = (id, until)
    }

    /// The creation in flight failed: the name is not tried again before the next audit.
    mutating func creationFailed(_ name: String) -> [Snowflake] {
        if inFlight == name { inFlight = nil }
        failed.insert(name)
        return endWaits { $0 == name }
    }

    /// The name in flight was not sent: the cache has such a role already (made meanwhile by someone
    /// else), or writes are held back.
    mutating func notSent(_ name: String) -> [Snowflake] {
        if inFlight == name { inFlight = nil }
        return endWaits { $0 == name }
    }

    /// A role named `name` is in the cache now (created or renamed to it): the cache answers for it.
    mutating func roleAppeared(named name: String) -> [Snowflake] {
        created[name] = nil
        return endWaits { $0 == name }
    }

    /// Role `id` was deleted or renamed: if Warden created it and its echo is still awaited, the memory
    /// of it ends (else a member would wait for a role that no longer exists, or never be given it).
    mutating func roleGone(_ id: Snowflake) -> [Snowflake] {
        guard let name = created.first(where: { $0.value.id == id })?.key else { return [] }
        created[name] = nil
        return endWaits { $0 == name }
    }

    /// Ends the memory of creations whose echo did not come in time.
    mutating func expire(now: Instant) -> [Snowflake] {
        let overdue = Set(created.filter { $0.value.until <= now }.keys)
        guard !overdue.isEmpty else { return [] }
        for name in overdue { created[name] = nil }
        return endWaits(overdue.contains)
    }

    /// A fresh GUILD_CREATE lists every role: the cache is the truth again for every created name.
    mutating func forgetCreated() -> [Snowflake] {
        let names = Set(created.keys)
        created = [:]
        return names.isEmpty ? [] : endWaits(names.contains)
    }

    /// An audit: names whose creation failed may be tried again.
    mutating func retryFailed() {
        failed.removeAll()
    }

    /// Shutdown: nothing queued is sent any more.
    mutating func dropQueue() {
        queue.removeAll()
    }

    /// Ends the waits for the names `matching` selects; returns the members that waited for one.
    private mutating func endWaits(_ matching: (String) -> Bool) -> [Snowflake] {
        var ended: [Snowflake] = []
        for (uid, names) in waiting where names.contains(where: matching) {
            ended.append(uid)
            waiting[uid] = nil
        }
        return ended
    }
}
