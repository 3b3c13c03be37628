import AuthModels
import AuthStore
import DiscordFake
import DiscordModels
import Foundation

/// SplitMix64: a small seeded generator, so a chaos or crash run can be replayed from its printed seed.
struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Knobs read from the environment, with the CI defaults.
enum ChaosEnvironment {
    static func integer(_ name: String) -> UInt64? {
        ProcessInfo.processInfo.environment[name].flatMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
    }
    /// `WARDEN_CHAOS_SEED`, else a fresh one (printed, so a failure can be replayed).
    static var seed: UInt64 { integer("WARDEN_CHAOS_SEED") ?? UInt64.random(in: 1...999_999) }
}

/// Counters shared by the chaos actors (unstructured tasks).
final class ChaosTally: Sendable {
    private let counts = Locked<[String: Int]>([:])

    func add(_ key: String, _ amount: Int = 1) { counts.withLock { $0[key, default: 0] += amount } }
    var snapshot: [String: Int] { counts.withLock { $0 } }
}

/// What Auth says each linked member must look like, checked on the fake (the truth), independently of
/// Warden's planner: non-managed role names = groups + state; nickname = main character's name (sync_names);
/// a user without access is not in the guild.
struct AuthView: Sendable {
    var users: [Snowflake: AuthUser]

    /// One line per member that is not as Auth says (empty when the guild has converged).
    func problems(in discord: FakeDiscord, limit: Int = 10) -> [String] {
        let roles = discord.roles
        let names = Dictionary(uniqueKeysWithValues: roles.map { ($0.id, $0.name) })
        let managed = Set(roles.filter(\.managed).map(\.id))
        var problems: [String] = []
        let duplicates = Dictionary(grouping: roles.filter { !$0.managed }, by: \.name).filter { $0.value.count > 1 }
        for name in duplicates.keys.sorted() { problems.append("role \"\(name)\" exists \(duplicates[name]!.count) times") }
        for (uid, user) in users.sorted(by: { $0.key < $1.key }) {
            let member = discord.member(uid)
            guard user.hasAccess else {
                if member != nil { problems.append("\(uid): still in the guild without access") }
                continue
            }
            guard let member else { problems.append("\(uid): missing from the guild"); continue }
            let held = Set(member.roles.filter { !managed.contains($0) }.map { names[$0] ?? "?\($0)" })
            let wanted = Set(user.groups + [user.state])
            if held != wanted { problems.append("\(uid): roles \(held.sorted()) ≠ \(wanted.sorted())") }
            if let character = user.mainCharacter, member.nick != character.characterName {
                problems.append("\(uid): nick \(member.nick ?? "nil") ≠ \(character.characterName)")
            }
            if problems.count >= limit { break }
        }
        return problems
    }
}

/// A fixed-width table for the test log.
func chaosTable(_ title: String, _ rows: [(String, String)]) -> String {
    let width = max(8, rows.map(\.0.count).max() ?? 0)
    var lines = ["== \(title) =="]
    for (key, value) in rows { lines.append(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value) }
    return lines.joined(separator: "\n")
}

struct ChaosTimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Runs `body`, throwing if it has not finished within `timeout` (the sleeping task is only the bound).
func within<T: Sendable>(_ timeout: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw ChaosTimedOut(what: what)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

extension FakeDiscord {
    /// The successful role creations (POST /guilds/{g}/roles answered 200/201), by role name.
    func roleCreationsByName() -> [String: Int] {
        let answers = Dictionary(responses.map { ($0.requestIndex, $0.status) }, uniquingKeysWith: { first, _ in first })
        var counts: [String: Int] = [:]
        for request in requests where request.method == "POST" && request.path.hasSuffix("/guilds/\(guildID)/roles") {
            guard let status = answers[request.index], (200..<300).contains(status),
                  let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
                  let name = object["name"] as? String else { continue }
            counts[name, default: 0] += 1
        }
        return counts
    }

    /// Answers Discord counts toward its invalid-request limit (401, 403, 429 other than shared), from `index` on.
    func invalidAnswers(from index: Int = 0) -> (unauthorized: Int, forbidden: Int, rateLimited: Int) {
        var result = (unauthorized: 0, forbidden: 0, rateLimited: 0)
        for response in responses where response.requestIndex >= index {
            switch response.status {
            case 401: result.unauthorized += 1
            case 403: result.forbidden += 1
            case 429 where response.header("X-RateLimit-Scope") != "shared": result.rateLimited += 1
            default: break
            }
        }
        return result
    }

    /// Member writes (PUT/PATCH/DELETE under /members/{uid}) sent from request `index` on, by member.
    func memberWrites(from index: Int = 0) -> [Snowflake: Int] {
        let prefix = "/guilds/\(guildID)/members/"
        var writes: [Snowflake: Int] = [:]
        for request in requests.dropFirst(index) where ["PUT", "PATCH", "DELETE"].contains(request.method) {
            guard let range = request.path.range(of: prefix) else { continue }
            let rest = request.path[range.upperBound...]
            guard let id = UInt64(rest.prefix { $0 != "/" }) else { continue }
            writes[Snowflake(id), default: 0] += 1
        }
        return writes
    }
}
