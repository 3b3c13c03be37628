import AuthModels
import AuthStore
import DiscordFake
import DiscordModels
import Foundation
import GuildState

/// The sizes of the idle run: members in the guild, the idle window, and the compressed day of events.
struct IdleScale {
    var members: Int
    var idleWindow: Duration
    /// Events of one day for `members` (see `DayOfEvents`), played at `eventsPerSecond`.
    var eventsPerSecond: Double

    static let full = IdleScale(members: 100_000, idleWindow: .seconds(30), eventsPerSecond: 1000)
    static let quick = IdleScale(members: 5_000, idleWindow: .seconds(2), eventsPerSecond: 1000)
}

/// One day of member events in a guild of `members`, without presences (Warden does not ask for them).
/// Assumed volumes, per day and per 100 000 members: 1 000 joins (GUILD_MEMBER_ADD), 1 000 leaves
/// (GUILD_MEMBER_REMOVE) and 20 000 GUILD_MEMBER_UPDATE (0.2 per member: nickname and profile changes,
/// other bots' and moderators' roles). Of the updates, 1 % take an Auth-managed role away (Warden puts it
/// back: one PUT), 9 % toggle a role named like an Auth reserved group ("Event Ping", which Warden never
/// removes: no write), 90 % change a nickname (no write,
/// `sync_names` off). Played as cycles of 22 events: one join, one leave (of the oldest joiner still
/// present, once 20 are), 20 updates.
struct DayOfEvents {
    enum Event {
        case join(Int)
        case leave
        case nickname(member: Int, variant: Int)
        case toggleUnmanaged(member: Int)
        case takeManagedRole(member: Int)
    }

    let events: [Event]
    let corrections: Int

    init(members: Int, seed: UInt64 = 2026) {
        var random = SeededGenerator(seed: seed)
        let cycles = max(1, members / 100)  // 1 000 cycles (22 000 events) per 100 000 members
        var events: [Event] = []
        events.reserveCapacity(cycles * 22)
        var corrections = 0
        for cycle in 0..<cycles {
            events.append(.join(cycle))
            events.append(cycle >= 20 ? .leave : .nickname(member: Int(random.next() % UInt64(members)), variant: cycle))
            for slot in 0..<20 {
                let member = Int(random.next() % UInt64(members))
                if slot == 0, cycle % 5 == 0 {
                    // Distinct members (97 is prime to the member counts used), so no role fight builds up.
                    events.append(.takeManagedRole(member: (corrections * 97) % members))
                    corrections += 1
                } else if slot < 2 {
                    events.append(.toggleUnmanaged(member: member))
                } else {
                    events.append(.nickname(member: member, variant: cycle * 20 + slot))
                }
            }
        }
        self.events = events
        self.corrections = corrections
    }
}

/// `idle_cpu_percent` and `idle_memory_growth_bytes`: the real daemon against DiscordFake with a guild of
/// `scale.members`, every member linked to an Auth user who wants exactly the roles the member holds.
func runIdleBench(scale: IdleScale, report: Report) async throws {
    var seed = FakeSeed()
    seed.generatedMembers = scale.members
    let heartbeat = 1000
    var linked: [Snowflake] = []
    var memberRole: Snowflake = 0
    var unmanagedRole: Snowflake = 0
    let fillStart = ContinuousClock.now
    let running = try await DaemonUnderTest.start(
        buckets: FakeConfiguration.observedBuckets(timeScale: 0.0001), seed: seed,
        configure: { configuration in
            // 41× Discord's heartbeat rate (41 250 ms), so the idle window holds many heartbeats.
            configuration.heartbeatInterval = heartbeat
            // The fake keeps 100 dispatches per session for resume (none happens here): its log is full
            // long before the first quarter of the day ends, so it adds nothing to the growth.
            configuration.sessionLogLimit = 100
        },
        reservedGroupNames: ["Event Ping"],
        prepare: { discord in
            memberRole = discord.role(named: "Member")!.id
            unmanagedRole = discord.createRole(name: "Event Ping").id
            let names = Dictionary(uniqueKeysWithValues: discord.roles.map { ($0.id, $0.name) })
            let ordinary = Set(discord.ordinaryMemberIDs)
            var users: [AuthUserImport] = []
            users.reserveCapacity(ordinary.count)
            for member in discord.members {
                guard let user = member.user, ordinary.contains(user.id) else { continue }
                var roles = member.roles
                if !roles.contains(memberRole) {
                    roles.append(memberRole)
                    try discord.editMember(user.id, roles: roles)
                }
                let groups = roles.filter { $0 != memberRole }.compactMap { names[$0] }
                users.append(AuthUserImport(user: AuthUser(id: Int64(users.count + 1), username: user.username,
                                                           state: "Member", groups: groups),
                                            discordUID: user.id))
                linked.append(user.id)
            }
            return users
        })
    let discord = running.discord
    let daemon = running.daemon
    func isWrite(_ method: String) -> Bool { method == "PUT" || method == "PATCH" || method == "DELETE" || method == "POST" }

    // Settled: the fill is complete, the first audit has nothing pending and no write came for a second.
    try await running.poll(timeout: .seconds(120)) { discord.identifyCount > 0 }
    while true {
        if let status = await daemon.status(), status.cache.complete, status.enforcement.pendingWrites == 0 { break }
        guard ContinuousClock.now - fillStart < .seconds(300) else { throw BenchFailure("idle: fill did not complete") }
        try await Task.sleep(for: .milliseconds(50))
    }
    try await Task.sleep(for: .seconds(1))
    let fillSeconds = (ContinuousClock.now - fillStart).inSeconds
    let auditWrites = discord.requests.filter { isWrite($0.method) }.count
    report.note("idle: \(linked.count) linked members filled and audited in \(Int(fillSeconds)) s (incl. store and fake setup), \(auditWrites) writes")

    // The idle window: nothing happens but heartbeats (every `heartbeat` ms, ACKed by the fake).
    let window = scale.idleWindow
    let wallStart = ContinuousClock.now
    let cpuStart = ProcessTime.processSeconds()
    let fakeStart = ProcessTime.threadSeconds(namePrefix: "NIO-")
    let payloadsStart = discord.gatewayPayloads.count
    try await Task.sleep(for: window)
    let cpu = ProcessTime.processSeconds() - cpuStart
    let fake = ProcessTime.threadSeconds(namePrefix: "NIO-") - fakeStart
    let wall = (ContinuousClock.now - wallStart).inSeconds
    let heartbeats = discord.gatewayPayloads.dropFirst(payloadsStart).count
    report.add("idle_cpu_percent", cpu / wall * 100, "%")
    report.add("idle_cpu_percent_without_nio_threads", max(0, cpu - fake) / wall * 100, "%")
    report.add("idle_heartbeats_in_window", Double(heartbeats), "payloads")

    // The day of events in quarters: the first warms up, the resident set is read after each (after
    // malloc_trim), once the daemon has made every correction asked so far and stored every outcome.
    let day = DayOfEvents(members: linked.count)
    var joiners: [Snowflake] = []
    var leaveNext = 0
    var correctionsAsked = 0
    let writesBefore = discord.requests.filter { isWrite($0.method) }.count
    func play(_ range: Range<Int>) async throws {
        let start = ContinuousClock.now
        for index in range {
            switch day.events[index] {
            case .join(let n):
                joiners.append(discord.addMember(username: "newbro_\(n)").user!.id)
            case .leave:
                try discord.removeMember(joiners[leaveNext])
                leaveNext += 1
            case .nickname(let member, let variant):
                try discord.editMember(linked[member], nick: .some("[WYE] Pilot \(variant % 5000)"))
            case .toggleUnmanaged(let member):
                let uid = linked[member]
                if discord.member(uid)?.roles.contains(unmanagedRole) == true {
                    try discord.removeRole(unmanagedRole, from: uid)
                } else {
                    try discord.addRole(unmanagedRole, to: uid)
                }
            case .takeManagedRole(let member):
                try discord.removeRole(memberRole, from: linked[member])
                correctionsAsked += 1
            }
            // Paced: event n is sent no earlier than n / rate after the start.
            if index % 50 == 49 {
                let due = start + .seconds(Double(index - range.lowerBound + 1) / scale.eventsPerSecond)
                if ContinuousClock.now < due { try await Task.sleep(until: due) }
            }
        }
        // Caught up: every correction asked for has reached the fake, and the daemon has nothing pending.
        let asked = correctionsAsked
        try await running.poll(timeout: .seconds(120)) {
            discord.requests.dropFirst(writesBefore).filter { $0.method == "PUT" }.count >= asked
        }
        while await daemon.status()?.enforcement.pendingWrites != 0 { try await Task.sleep(for: .milliseconds(20)) }
        // The enforcer persists outcomes in tasks of their own (one SQLite transaction each); at 1 000
        // events/s they queue behind the store's writer. A write of ours queues behind them: once it is
        // done, so are they (twice, for tasks that had not reached the queue yet).
        for _ in 0..<2 {
            try await Task.sleep(for: .milliseconds(250))
            try await daemon.parts?.store.replaceReservedGroupNames(["Event Ping"])
        }
    }
    var residents: [Int] = []
    var heaps: [Int] = []
    var caches: [Int] = []
    func measure() async {
        Memory.trim()
        residents.append(Memory.residentBytes())
        heaps.append(Memory.heapInUseBytes() ?? 0)
        caches.append(await daemon.parts?.enforcer.withGuild { $0.memberCacheBytes } ?? 0)
    }
    let quarter = day.events.count / 4
    let dayStart = ContinuousClock.now
    for q in 0..<4 {
        try await play((quarter * q)..<(q == 3 ? day.events.count : quarter * (q + 1)))
        await measure()
    }
    func megabytes(_ values: [Int]) -> String { values.map { String(format: "%.2f", Double($0) / 1_048_576) }.joined(separator: ", ") }
    report.note("idle: after each quarter of the day (MB): resident \(megabytes(residents)); malloc in use \(megabytes(heaps)); "
                + "member cache (by capacity) \(megabytes(caches))")
    let daySeconds = (ContinuousClock.now - dayStart).inSeconds
    let dayWrites = discord.requests.dropFirst(writesBefore).filter { isWrite($0.method) }.count
    let cachedMembers = await daemon.status()?.cache.members ?? -1
    await running.stop(report: report)

    report.add("idle_memory_growth_bytes", Double(residents[3] - residents[0]), "bytes")
    report.add("idle_memory_heap_growth_bytes", Double(heaps[3] - heaps[0]), "bytes")
    report.add("idle_memory_member_cache_growth_bytes", Double(caches[3] - caches[0]), "bytes")
    report.add("idle_memory_heap_growth_outside_cache_bytes", Double((heaps[3] - heaps[0]) - (caches[3] - caches[0])), "bytes")
    report.add("idle_memory_resident_bytes", Double(residents[3]), "bytes")
    report.add("idle_day_events", Double(day.events.count), "events")
    report.add("idle_day_rest_writes", Double(dayWrites), "requests")
    report.add("idle_day_corrections_expected", Double(day.corrections), "requests")
    report.note("idle: day of \(day.events.count) events played in \(Int(daySeconds)) s; the daemon caches \(cachedMembers) members, the fake holds \(discord.memberCount)")
}
