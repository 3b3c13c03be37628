import AuthModels
import AuthStore
import DiscordFake
import DiscordGateway
import DiscordModels
import DiscordREST
import Foundation
import WardenConfig
import WardenService

/// The real daemon (libwebsockets gateway, libcurl REST, SQLite store) against DiscordFake on loopback.
struct DaemonUnderTest {
    let discord: FakeDiscord
    let daemon: WardenDaemon
    let run: Task<Void, any Error>
    let directory: URL

    /// Starts the fake with `buckets`, lets `prepare` add members and returns the Auth users to link,
    /// then starts the daemon over a store holding them.
    /// `seed` and `configure` let a bench change the fake's guild and settings (defaults: the small seeded
    /// guild, heartbeats every 5 s); `reservedGroupNames` go into the store (roles Warden never removes).
    static func start(buckets: [FakeRoute: FakeBucket], seed: FakeSeed = FakeSeed(),
                      configure: (inout FakeConfiguration) -> Void = { _ in }, reservedGroupNames: [String] = [],
                      prepare: (FakeDiscord) throws -> [AuthUserImport]) async throws -> DaemonUnderTest {
        var fakeConfiguration = FakeConfiguration()
        fakeConfiguration.heartbeatInterval = 5000
        fakeConfiguration.identifyConcurrencyWindow = nil
        fakeConfiguration.buckets = buckets
        fakeConfiguration.globalLimitPerSecond = 10_000
        fakeConfiguration.logMemberChunks = false
        configure(&fakeConfiguration)
        let discord = FakeDiscord(configuration: fakeConfiguration, seed: seed)
        try await discord.start()
        let users = try prepare(discord)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let storePath = directory.appendingPathComponent("warden.sqlite3").path
        let store = try AuthStore(path: storePath)
        _ = try await store.upsert(users)
        if !reservedGroupNames.isEmpty { try await store.replaceReservedGroupNames(reservedGroupNames) }
        try store.close()

        let json = """
            {"discord": {"app_id": "\(discord.application.id)", "app_secret": "\(discord.application.secret.revealed)",
              "bot_token": "\(discord.botToken.revealed)", "guild_id": "\(discord.guildID)",
              "callback_url": "http://127.0.0.1:9/discord/callback/", "api_base_url": "\(discord.apiBaseURL)",
              "gateway_url": "\(discord.gatewayURL)", "oauth_authorize_url": "\(discord.authorizeURL)"},
             "store": {"path": "\(storePath)"},
             "http": {"listen": "127.0.0.1:0", "admin_token": "admin-token-for-bench-0123456789"}}
            """
        let configuration = try WardenConfiguration.parse(Array(json.utf8), source: "bench", environment: [:])
        let daemon = WardenDaemon(configuration: configuration,
                                  transports: DaemonTransports(webSocket: LWSWebSocketTransport(), http: try CurlHTTPTransport()))
        let run = Task { try await daemon.run() }
        return DaemonUnderTest(discord: discord, daemon: daemon, run: run, directory: directory)
    }

    /// Shuts the daemon and the fake down; gives up after `timeout` (saying so) so a hang cannot stall the suite.
    func stop(report: Report, timeout: Duration = .seconds(30)) async {
        let done = Locked(false)
        let (daemon, run, discord, directory) = (daemon, run, discord, directory)
        Task {
            await daemon.shutdown()
            _ = try? await run.value
            await discord.stop()
            try? FileManager.default.removeItem(at: directory)
            done.withLock { $0 = true }
        }
        let deadline = ContinuousClock.now + timeout
        while !done.withLock({ $0 }) {
            guard ContinuousClock.now < deadline else {
                report.note("daemon shutdown did not finish within \(timeout); left running")
                return
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Polls `condition` every 5 ms until it holds or `timeout` passes (a benchmark may sleep; tests may not).
    func poll(timeout: Duration = .seconds(60), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { throw BenchFailure("timed out waiting on the fake") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// `correction_latency_p50_ms` / `_p99_ms`: a moderator removes a role by hand (GUILD_MEMBER_UPDATE) and
/// the fake receives the corrective PUT; time from the edit to the request's arrival, same clock.
func runCorrectionLatencyBench(edits: Int, report: Report) async throws {
    let memberCount = max(1, edits / 4)  // 4 edits per member stays under the fight limit (5)
    // Windows 10 000 times shorter than Discord's (10 requests per ms): the bucket always has room.
    var memberIDs: [Snowflake] = []
    var corp: Snowflake = 0
    let running = try await DaemonUnderTest.start(buckets: FakeConfiguration.observedBuckets(timeScale: 0.0001)) { discord in
        let member = discord.role(named: "Member")!.id
        corp = discord.role(named: "Corp_WYE")!.id
        return (0..<memberCount).map { i in
            let added = discord.addMember(username: "pilot_\(i)", roles: [member, corp])
            memberIDs.append(added.user!.id)
            return AuthUserImport(user: AuthUser(id: Int64(i + 1), username: "pilot_\(i)", state: "Member", groups: ["Corp_WYE"]),
                                  discordUID: added.user!.id)
        }
    }
    let discord = running.discord
    // Started: the member fill and its audit are done once the daemon's status says the cache is complete.
    try await running.poll { discord.identifyCount > 0 }
    while await running.daemon.status()?.cache.complete != true { try await Task.sleep(for: .milliseconds(20)) }

    var latencies: [Double] = []
    let corpRole = corp
    for edit in 0..<edits {
        let uid = memberIDs[edit % memberIDs.count]
        let mark = discord.requestCount
        let start = ContinuousClock.now
        try discord.removeRole(corpRole, from: uid)
        let fix = try await discord.waitForRequest(from: mark, timeout: .seconds(10)) {
            $0.method == "PUT" && $0.path.hasSuffix("/members/\(uid)/roles/\(corpRole)")
        }
        latencies.append((fix.arrival - start).inSeconds * 1000)
        // Let the fix land and its echo reach the daemon before the next edit, and keep under Discord's
        // global limit (50 requests/s, which the daemon enforces itself): one edit per 25 ms.
        try await running.poll(timeout: .seconds(10)) { discord.member(uid)?.roles.contains(corpRole) == true }
        let next = start + .milliseconds(25)
        if ContinuousClock.now < next { try await Task.sleep(until: next) }
    }
    await running.stop(report: report)
    report.add("correction_latency_p50_ms", percentile(latencies, 50), "ms")
    report.add("correction_latency_p99_ms", percentile(latencies, 99), "ms")
    report.add("correction_latency_max_ms", latencies.max() ?? .nan, "ms")
    report.add("correction_latency_over_5ms", Double(latencies.filter { $0 > 5 }.count), "edits")
    let slow = latencies.enumerated().filter { $0.element > 5 }.map { "\($0.offset): \(Int($0.element))" }
    if !slow.isEmpty { report.note("latency: edits over 5 ms (index: ms): " + slow.joined(separator: ", ")) }
}

/// `bucket_utilization` and `bucket_429_after_learned`: `drifted` members wrong at start (half missing one
/// role: PUT; half missing three: PATCH), the fake's observed buckets with windows scaled by `timeScale`.
func runBucketBench(drifted: Int, timeScale: Double, report: Report) async throws {
    let buckets = FakeConfiguration.observedBuckets(timeScale: timeScale)
    var memberIDs: Set<Snowflake> = []
    let running = try await DaemonUnderTest.start(buckets: buckets) { discord in
        let member = discord.role(named: "Member")!.id
        return (0..<drifted).map { i in
            let onePut = i % 2 == 0
            let added = discord.addMember(username: "drifter_\(i)", roles: onePut ? [member] : [])
            memberIDs.insert(added.user!.id)
            let groups = onePut ? ["Corp_WYE"] : ["Corp_WYE", "Fleet Commanders"]
            return AuthUserImport(user: AuthUser(id: Int64(i + 1), username: "drifter_\(i)", state: "Member", groups: groups),
                                  discordUID: added.user!.id)
        }
    }
    let discord = running.discord
    let ids = memberIDs
    func isMemberWrite(_ method: String, _ path: String) -> Bool {
        guard method == "PUT" || method == "PATCH" || method == "DELETE", let range = path.range(of: "/members/") else { return false }
        let rest = path[range.upperBound...]
        let uid = Snowflake(rest.prefix { $0 != "/" })
        return uid.map { ids.contains($0) } ?? false
    }
    // Done when every drifted member got a 2xx answer.
    try await running.poll(timeout: .seconds(120)) {
        Set(discord.responses.filter { isMemberWrite($0.method, $0.path) && (200..<300).contains($0.status) }
            .compactMap { response -> Snowflake? in
                guard let range = response.path.range(of: "/members/") else { return nil }
                return Snowflake(response.path[range.upperBound...].prefix { $0 != "/" })
            }).count >= drifted
    }
    let requests = discord.requests.filter { isMemberWrite($0.method, $0.path) }
    let responses = discord.responses
    await running.stop(report: report)

    // Per bucket: requests sent over what the bucket allowed between its first and last request
    // (limit × windows begun), and 429s to requests sent after the bucket's first answer taught its limit.
    let roleBucket = buckets[.addMemberRole]!
    let editBucket = buckets[.modifyMember]!
    var sent = 0
    var allowed = 0.0
    var late429 = 0
    var all429 = 0
    for (bucket, methods) in [(roleBucket, ["PUT", "DELETE"]), (editBucket, ["PATCH"])] {
        let mine = requests.filter { methods.contains($0.method) }.sorted { $0.arrival < $1.arrival }
        guard let first = mine.first, let last = mine.last else { continue }
        // At full use the bucket sends `limit` requests per window: N requests span (N/limit - 1) windows.
        let span = (last.arrival - first.arrival).inSeconds
        let bucketAllowed = Double(bucket.limit) * (span / bucket.window.inSeconds + 1)
        sent += mine.count
        allowed += bucketAllowed
        let label = methods[0] == "PATCH" ? "member_edit" : "member_role"
        report.add("bucket_\(label)_utilization", Double(mine.count) / bucketAllowed, "ratio")
        report.add("bucket_\(label)_span_ms", span * 1000, "ms")
        let firstAnswer = responses.first { r in mine.contains { $0.index == r.requestIndex } }
        let learnedAt = firstAnswer.flatMap { answer in mine.first { $0.index == answer.requestIndex } }?.arrival
        for request in mine {
            guard let response = responses.first(where: { $0.requestIndex == request.index }), response.status == 429 else { continue }
            all429 += 1
            if let learnedAt, request.arrival > learnedAt { late429 += 1 }
        }
        report.add("bucket_\(label)_requests", Double(mine.count), "requests")
    }
    report.add("bucket_utilization", allowed > 0 ? Double(sent) / allowed : .nan, "ratio")
    report.add("bucket_parallel_overlap", parallelOverlap(requests, window: editBucket.window), "ratio")
    report.add("bucket_429_after_learned", Double(late429), "responses")
    report.add("bucket_429_total", Double(all429), "responses")
}

/// `bucket_parallel_overlap`: the burst (first to last member write, either bucket) cut into slices of one
/// bucket window; the fraction of slices in which both the member-role bucket (PUT/DELETE) and the
/// member-edit bucket (PATCH) had a request arrive. 1.0: both used side by side all along; one bucket
/// drained after the other would give about 0.
func parallelOverlap(_ requests: [RecordedRequest], window: Duration) -> Double {
    guard let start = requests.map(\.arrival).min(), let end = requests.map(\.arrival).max() else { return .nan }
    let slice = window.inSeconds
    let count = max(1, Int(((end - start).inSeconds / slice).rounded(.up)))
    var role = [Bool](repeating: false, count: count)
    var edit = [Bool](repeating: false, count: count)
    for request in requests {
        let index = min(count - 1, Int((request.arrival - start).inSeconds / slice))
        if request.method == "PATCH" { edit[index] = true } else { role[index] = true }
    }
    return Double(zip(role, edit).filter { $0 && $1 }.count) / Double(count)
}
