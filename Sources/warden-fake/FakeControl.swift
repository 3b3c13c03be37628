import DiscordFake
import DiscordModels
import Foundation
import Hummingbird

/// The loopback control endpoint of `warden-fake`: JSON over HTTP, so a test in another language can
/// seed the guild, act as a moderator and read what the fake recorded. Ids are decimal strings.
///
///   GET    /guild                      {"id","name","owner_id","roles":[role],"members":[member]}
///   POST   /roles          {"name"}    a new role (below the bot's) -> role
///   POST   /users          {"username","global_name"?}   a Discord account that can log in, not in the guild -> user
///   POST   /consent        {"user_id": id or null}       who the OAuth consent page approves
///   POST   /members        {"user_id" | "username", "roles"?: [id], "nick"?}   a member joins -> member
///   PATCH  /members/{id}   {"roles"?: [id], "nick"?: text or null}   a moderator's edit
///   DELETE /members/{id}                                 the member leaves
///   GET    /requests?from=N            the REST requests since index N: [{"index","method","path","query","body"}]
struct FakeControl: Sendable {
    let discord: FakeDiscord

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("guild") { _, _ in try json(guildJSON()) }
        router.post("roles") { request, _ in
            let body = try await object(request)
            guard let name = body["name"] as? String, !name.isEmpty else { throw bad("name: a role name is required") }
            let role = discord.createRole(name: name)
            return try json(roleJSON(role))
        }
        router.post("users") { request, _ in
            let body = try await object(request)
            guard let username = body["username"] as? String, !username.isEmpty else { throw bad("username: required") }
            let user = discord.registerUser(username: username, globalName: body["global_name"] as? String)
            return try json(userJSON(user))
        }
        router.post("consent") { request, _ in
            let body = try await object(request)
            discord.setConsentUser(try snowflake(body["user_id"], "user_id", optional: true))
            return Response(status: .noContent)
        }
        router.post("members") { request, _ in
            let body = try await object(request)
            let roles = try snowflakes(body["roles"], "roles")
            let nick = body["nick"] as? String
            let member: GuildMember
            if let id = try snowflake(body["user_id"], "user_id", optional: true) {
                member = discord.addMember(User(id: id, username: body["username"] as? String ?? "user\(id)"),
                                           roles: roles, nick: nick)
            } else if let username = body["username"] as? String {
                member = discord.addMember(username: username, roles: roles, nick: nick)
            } else {
                throw bad("user_id or username: one is required")
            }
            return try json(memberJSON(member))
        }
        router.patch("members/:id") { request, context in
            let id = try snowflake(context.parameters.get("id"), "id", optional: false)!
            let body = try await object(request)
            let roles = body["roles"] == nil ? nil : try snowflakes(body["roles"], "roles")
            let nick: String?? = body.keys.contains("nick") ? .some(body["nick"] as? String) : .none
            do { try discord.editMember(id, roles: roles, nick: nick) } catch { throw missing(error) }
            guard let member = discord.member(id) else { throw missing(nil) }
            return try json(memberJSON(member))
        }
        router.delete("members/:id") { _, context in
            let id = try snowflake(context.parameters.get("id"), "id", optional: false)!
            do { try discord.removeMember(id) } catch { throw missing(error) }
            return Response(status: .noContent)
        }
        router.get("requests") { request, _ in
            let from = request.uri.queryParameters.get("from").flatMap { Int($0) } ?? 0
            let requests = discord.requests.filter { $0.index >= from }.map { recorded -> [String: Any] in
                ["index": recorded.index, "method": recorded.method, "path": recorded.path,
                 "query": recorded.query ?? NSNull(), "body": recorded.bodyText]
            }
            return try json(requests)
        }
        return router
    }

    // MARK: JSON

    private func guildJSON() -> [String: Any] {
        let guild = discord.guild
        return ["id": guild.id.description, "name": guild.name, "owner_id": discord.ownerID.description,
                "roles": discord.roles.map(roleJSON), "members": discord.members.map(memberJSON)]
    }

    private func roleJSON(_ role: Role) -> [String: Any] {
        ["id": role.id.description, "name": role.name, "position": role.position, "managed": role.managed]
    }

    private func userJSON(_ user: User) -> [String: Any] {
        ["id": user.id.description, "username": user.username, "global_name": user.globalName ?? NSNull(), "bot": user.bot]
    }

    private func memberJSON(_ member: GuildMember) -> [String: Any] {
        ["user": member.user.map(userJSON) ?? NSNull(), "nick": member.nick ?? NSNull(),
         "roles": member.roles.map(\.description)]
    }

    private func json(_ value: Any) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private func object(_ request: Request) async throws -> [String: Any] {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        if buffer.readableBytes == 0 { return [:] }
        guard let value = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)),
              let object = value as? [String: Any] else { throw bad("body: expected a JSON object") }
        return object
    }

    private func snowflake(_ value: Any?, _ field: String, optional: Bool) throws -> Snowflake? {
        switch value {
        case nil, is NSNull:
            if optional { return nil }
            throw bad("\(field): required")
        case let text as String:
            guard let id = Snowflake(text) else { throw bad("\(field): not a snowflake") }
            return id
        case let number as NSNumber:
            return Snowflake(number.uint64Value)
        default:
            throw bad("\(field): not a snowflake")
        }
    }

    private func snowflakes(_ value: Any?, _ field: String) throws -> [Snowflake] {
        guard let value else { return [] }
        guard let list = value as? [Any] else { throw bad("\(field): expected an array of ids") }
        return try list.map { try snowflake($0, field, optional: false)! }
    }

    private func bad(_ message: String) -> HTTPError { HTTPError(.badRequest, message: message) }

    private func missing(_ error: (any Error)?) -> HTTPError {
        HTTPError(.notFound, message: error.map { "\($0)" } ?? "no such member")
    }
}
