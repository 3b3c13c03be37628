import DiscordModels
import Foundation

/// How a REST request authenticated.
enum FakeCaller {
    case bot
    case bearer(OAuthGrant)
}

/// The REST API of the fake: edge checks, auth, rate limits, then the endpoint with Discord's rules.
/// Runs under the state lock, so a request and the dispatches it causes are one step.
struct FakeREST {
    let request: RecordedRequest
    let urls: FakeURLs

    struct FakeURLs: Sendable {
        var gateway: String
    }

    /// The matched route: which bucket, which guild, which ids.
    struct Match {
        var route: FakeRoute
        var guild: String?
        var user: String?
        var role: String?
    }

    func respond(_ state: inout FakeState) -> FakeHTTPResponse {
        var response = process(&state)
        if response.status == 401 || response.status == 403 || (response.status == 429 && response.rateLimitScope != "shared") {
            state.countInvalidRequest()
        }
        if response.status == 429 && response.rateLimitScope == nil { response.rateLimitScope = "user" }
        return response
    }

    private func process(_ state: inout FakeState) -> FakeHTTPResponse {
        if let until = state.bannedUntil {
            if state.now < until {
                // Cloudflare says how long the ban lasts in `Retry-After` (whole seconds), never in JSON.
                var banned = FakeHTTPResponse.html(429, title: "Too Many Requests")
                banned.headers.append(("Retry-After", String(Int((until - state.now).rounded(.up)))))
                return banned
            }
            state.bannedUntil = nil
            state.invalidRequests = []
        }
        let prefix = "/api/v10/"
        guard request.path.hasPrefix(prefix) else { return .notFound }
        let parts = request.path.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let match = Self.match(method: request.method, parts: parts) else {
            return Self.knownPath(parts) ? .methodNotAllowed : .notFound
        }
        if ["PUT", "POST", "PATCH"].contains(request.method), request.header("content-length") == nil,
           request.header("transfer-encoding") == nil {
            return .html(411, title: "Length Required")
        }
        if match.route == .oauthToken {
            if !state.faults.oauthTokenRefusals.isEmpty {
                switch state.faults.oauthTokenRefusals.removeFirst() {
                case .globalRateLimit(let retryAfter):
                    return Self.tooManyRequests(retryAfter: retryAfter.fakeSeconds, global: true, scope: "global")
                case .cloudflareBan(let retryAfter):
                    var banned = FakeHTTPResponse.html(429, title: "Too Many Requests")
                    banned.headers.append(("Retry-After", String(Int(retryAfter.fakeSeconds.rounded(.up)))))
                    return banned
                }
            }
            return FakeOAuth(request: request).token(&state)
        }

        // Authentication.
        let authorization = request.header("authorization") ?? ""
        let caller: FakeCaller
        if authorization.hasPrefix("Bot ") {
            guard authorization.dropFirst(4) == state.guild.application.botToken.revealed else { return .unauthorized }
            guard Self.validUserAgent(request.header("user-agent")) else {
                return .error(403, .cloudflareBlocked, "Cloudflare is blocking your request. Set a DiscordBot User-Agent.")
            }
            caller = .bot
        } else if authorization.hasPrefix("Bearer ") {
            guard let grant = state.accessTokens[String(authorization.dropFirst(7))], grant.expiresAt > state.now else {
                return .unauthorized
            }
            caller = .bearer(grant)
        } else {
            return .unauthorized
        }
        if case .bearer = caller, match.route != .getCurrentUser { return .unauthorized }

        // Global limit, forced limits, then the route's bucket.
        if let limited = globalLimit(&state) { return limited }
        if let forced = forcedLimit(&state, match: match) { return forced }
        var bucketHeaders: [(String, String)] = []
        if let bucket = state.configuration.buckets[match.route] {
            switch consume(bucket, guild: match.guild ?? "", &state) {
            case .limited(let response): return response
            case .allowed(let headers): bucketHeaders = headers
            }
        }

        var response = endpoint(match, caller: caller, &state)
        response.addHeaders(bucketHeaders)
        return response
    }

    // MARK: Routing

    /// The route of an API request, or nil for anything else.
    static func route(of request: RecordedRequest) -> FakeRoute? {
        let prefix = "/api/v10/"
        guard request.path.hasPrefix(prefix) else { return nil }
        let parts = request.path.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        return match(method: request.method, parts: parts)?.route
    }

    static func match(method: String, parts: [String]) -> Match? {
        switch (method, parts.count) {
        case ("GET", 2) where parts == ["gateway", "bot"]: return Match(route: .getGatewayBot)
        case ("GET", 2) where parts == ["users", "@me"]: return Match(route: .getCurrentUser)
        case ("GET", 2) where parts == ["applications", "@me"]: return Match(route: .getCurrentApplication)
        case ("POST", 2) where parts == ["oauth2", "token"]: return Match(route: .oauthToken)
        default: break
        }
        guard parts.count >= 2, parts[0] == "guilds" else { return nil }
        let guild = parts[1]
        switch (method, Array(parts.dropFirst(2))) {
        case ("GET", []): return Match(route: .getGuild, guild: guild)
        case ("GET", ["roles"]): return Match(route: .getRoles, guild: guild)
        case ("POST", ["roles"]): return Match(route: .createRole, guild: guild)
        case (let method, let rest) where rest.count == 2 && rest[0] == "roles":
            let routes: [String: FakeRoute] = ["PATCH": .modifyRole, "DELETE": .deleteRole]
            return routes[method].map { Match(route: $0, guild: guild, role: rest[1]) }
        case ("GET", ["members"]): return Match(route: .listMembers, guild: guild)
        case (let method, let rest) where rest.count == 2 && rest[0] == "members":
            let routes: [String: FakeRoute] = ["GET": .getMember, "PATCH": .modifyMember, "PUT": .addMember,
                                               "DELETE": .kickMember]
            return routes[method].map { Match(route: $0, guild: guild, user: rest[1]) }
        case (let method, let rest) where rest.count == 4 && rest[0] == "members" && rest[2] == "roles":
            let routes: [String: FakeRoute] = ["PUT": .addMemberRole, "DELETE": .removeMemberRole]
            return routes[method].map { Match(route: $0, guild: guild, user: rest[1], role: rest[3]) }
        default: return nil
        }
    }

    static func knownPath(_ parts: [String]) -> Bool {
        ["GET", "PUT", "POST", "PATCH", "DELETE"].contains { match(method: $0, parts: parts) != nil }
    }

    /// `DiscordBot (url, version)`, extra text allowed after.
    static func validUserAgent(_ agent: String?) -> Bool {
        guard let agent, agent.hasPrefix("DiscordBot ("), let close = agent.firstIndex(of: ")") else { return false }
        let inside = agent[agent.index(agent.startIndex, offsetBy: 12)..<close]
        let fields = inside.split(separator: ",", maxSplits: 1)
        return fields.count == 2 && !fields[0].trimmingCharacters(in: .whitespaces).isEmpty
            && !fields[1].trimmingCharacters(in: .whitespaces).isEmpty
    }

    // MARK: Rate limits

    enum BucketResult {
        case allowed([(String, String)])
        case limited(FakeHTTPResponse)
    }

    private func consume(_ bucket: FakeBucket, guild: String, _ state: inout FakeState) -> BucketResult {
        let now = state.now
        let window = bucket.window.fakeSeconds
        let key = "\(bucket.hash):\(guild)"
        var current = state.buckets[key] ?? BucketState(windowStart: now, used: 0)
        if now >= current.windowStart + window { current = BucketState(windowStart: now, used: 0) }
        let resetAfter = max(0, current.windowStart + window - now)
        func headers(remaining: Int) -> [(String, String)] {
            [("X-RateLimit-Limit", String(bucket.limit)), ("X-RateLimit-Remaining", String(remaining)),
             ("X-RateLimit-Reset", Self.seconds(state.configuration.clock.epoch(at: current.windowStart + window))),
             ("X-RateLimit-Reset-After", Self.seconds(resetAfter)), ("X-RateLimit-Bucket", bucket.hash),
             ("X-RateLimit-Scope", "user")]
        }
        guard current.used < bucket.limit else {
            state.buckets[key] = current
            var response = Self.tooManyRequests(retryAfter: resetAfter, global: false, scope: "user")
            response.addHeaders(headers(remaining: 0))
            return .limited(response)
        }
        current.used += 1
        state.buckets[key] = current
        return .allowed(headers(remaining: bucket.limit - current.used))
    }

    private func globalLimit(_ state: inout FakeState) -> FakeHTTPResponse? {
        let now = state.now
        if now >= state.globalWindow.windowStart + 1 { state.globalWindow = BucketState(windowStart: now, used: 0) }
        guard state.globalWindow.used < state.configuration.globalLimitPerSecond else {
            return Self.tooManyRequests(retryAfter: state.globalWindow.windowStart + 1 - now, global: true, scope: "global")
        }
        state.globalWindow.used += 1
        return nil
    }

    private func forcedLimit(_ state: inout FakeState, match: Match) -> FakeHTTPResponse? {
        guard let forced = state.faults.forcedRateLimits.first else { return nil }
        let bucket = state.configuration.buckets[match.route]
        switch forced.kind {
        case .global:
            break
        case .bucket, .shared:
            guard bucket != nil else { return nil }
        }
        state.faults.forcedRateLimits.removeFirst()
        let retry = forced.retryAfter.fakeSeconds
        switch forced.kind {
        case .global: return Self.tooManyRequests(retryAfter: retry, global: true, scope: "global")
        case .bucket, .shared:
            let scope = forced.kind == .shared ? "shared" : "user"
            var response = Self.tooManyRequests(retryAfter: retry, global: false, scope: scope)
            if let bucket {
                response.addHeaders([("X-RateLimit-Limit", String(bucket.limit)), ("X-RateLimit-Remaining", "0"),
                                     ("X-RateLimit-Reset", Self.seconds(state.configuration.clock.epoch(at: state.now + retry))),
                                     ("X-RateLimit-Reset-After", Self.seconds(retry)), ("X-RateLimit-Bucket", bucket.hash)])
            }
            return response
        }
    }

    static func tooManyRequests(retryAfter: Double, global: Bool, scope: String) -> FakeHTTPResponse {
        let retry = (retryAfter * 1000).rounded(.up) / 1000
        let body = "{\"message\": \"You are being rate limited.\", \"retry_after\": \(seconds(retry)), \"global\": \(global)}"
        var response = FakeHTTPResponse.json(429, bytes: Array(body.utf8))
        response.rateLimitScope = scope
        response.addHeaders([("Retry-After", String(Int(retry.rounded(.up)))), ("X-RateLimit-Scope", scope)])
        if global { response.addHeaders([("X-RateLimit-Global", "true")]) }
        return response
    }

    static func seconds(_ value: Double) -> String { String(format: "%.3f", value) }

    // MARK: Endpoints

    private func endpoint(_ match: Match, caller: FakeCaller, _ state: inout FakeState) -> FakeHTTPResponse {
        switch match.route {
        case .getGatewayBot:
            let limit = state.configuration.sessionStartLimit
            return .json(200, GatewayBot(url: urls.gateway, sessionStartLimit: .init(
                total: limit.total, remaining: state.sessionStartRemaining, resetAfter: limit.resetAfter,
                maxConcurrency: limit.maxConcurrency)))
        case .getCurrentUser:
            switch caller {
            case .bot: return .json(200, state.guild.application.botUser)
            case .bearer(let grant):
                guard grant.scope.split(separator: " ").contains("identify"),
                      let user = state.oauthUsers[grant.userID] ?? state.guild.members[grant.userID]?.user
                else { return .unauthorized }
                return .json(200, user)
            }
        case .getCurrentApplication:
            guard case .bot = caller else { return .unauthorized }
            return .json(200, ApplicationPayload(application: state.guild.application))
        case .oauthToken:
            return .notFound
        default:
            break
        }

        // Guild routes.
        guard let guildText = match.guild, let guildID = Snowflake(guildText), guildID == state.guild.id else {
            return .unknownGuild
        }
        guard state.guild.botInGuild else { return .missingAccess }
        if let failure = validateAuditLogReason() { return failure }
        if let failure = validateBodyType() { return failure }

        switch match.route {
        case .getGuild: return .json(200, state.guild.guildObject)
        case .getRoles: return .json(200, state.guild.rolesByPosition)
        case .createRole: return createRole(&state)
        case .modifyRole: return modifyRole(match, &state)
        case .deleteRole: return deleteRole(match, &state)
        case .listMembers: return listMembers(&state)
        case .getMember:
            guard let member = member(match, state) else { return .unknownMember }
            return .json(200, MemberPayload(member: member))
        case .modifyMember: return modifyMember(match, &state)
        case .addMemberRole, .removeMemberRole: return changeMemberRole(match, add: match.route == .addMemberRole, &state)
        case .kickMember: return kick(match, &state)
        case .addMember: return addMember(match, &state)
        case .getGatewayBot, .getCurrentUser, .getCurrentApplication, .oauthToken: return .notFound
        }
    }

    private func member(_ match: Match, _ state: FakeState) -> GuildMember? {
        guard let text = match.user, let id = Snowflake(text) else { return nil }
        return state.guild.members[id]
    }

    /// The parsed JSON object body (empty body: empty object), or the error to answer.
    private func jsonObject() -> Result<[String: Any], FakeHTTPResponseError> {
        if request.body.isEmpty { return .success([:]) }
        guard let object = FakeJSON.parse(request.body) else { return .failure(FakeHTTPResponseError(response: .invalidJSON)) }
        guard let dictionary = object as? [String: Any] else {
            return .failure(FakeHTTPResponseError(response: .invalidForm([], code: "DICT_TYPE_CONVERT",
                                                                          message: "Only dictionaries may be used in a DictType")))
        }
        return .success(dictionary)
    }

    private func validateBodyType() -> FakeHTTPResponse? {
        guard !request.body.isEmpty else { return nil }
        let type = request.header("content-type")?.lowercased() ?? ""
        guard type.hasPrefix("application/json") else {
            return .invalidForm([], code: "CONTENT_TYPE_INVALID",
                                message: "Expected \"Content-Type\" header to be one of {'application/json'}.")
        }
        return nil
    }

    private func validateAuditLogReason() -> FakeHTTPResponse? {
        guard let raw = request.header("x-audit-log-reason") else { return nil }
        guard let decoded = raw.removingPercentEncoding else {
            return .invalidForm(["audit_log_reason"], code: "BASE_TYPE_BAD_ENCODING", message: "Invalid percent encoding.")
        }
        guard decoded.count <= 512 else {
            return .invalidForm(["audit_log_reason"], code: "BASE_TYPE_MAX_LENGTH", message: "Must be 512 or fewer in length.")
        }
        return nil
    }

    /// 403 60003 when the guild requires 2FA and the app owner has none.
    private func twoFactorBlocks(_ state: FakeState) -> Bool {
        state.guild.mfaLevel == .elevated && !state.guild.application.ownerHasTwoFactor
    }

    private func createRole(_ state: inout FakeState) -> FakeHTTPResponse {
        let body: [String: Any]
        switch jsonObject() {
        case .success(let value): body = value
        case .failure(let error): return error.response
        }
        guard state.guild.botPermissions.contains(.manageRoles) else { return .missingPermissions }
        guard !twoFactorBlocks(state) else { return .twoFactorRequired }
        let name: String
        if let value = body["name"], !(value is NSNull) {
            guard let text = value as? String else {
                return .invalidForm(["name"], code: "BASE_TYPE_STRING", message: "Could not interpret \"\(value)\" as string.")
            }
            guard text.count <= 100 else {
                return .invalidForm(["name"], code: "BASE_TYPE_BAD_LENGTH", message: "Must be between 1 and 100 in length.")
            }
            name = text.isEmpty ? "new role" : text
        } else {
            name = "new role"
        }
        var permissions: Permissions?
        if let value = body["permissions"], !(value is NSNull) {
            let text = (value as? String) ?? (value as? NSNumber)?.stringValue ?? ""
            guard let raw = UInt64(text) else {
                return .invalidForm(["permissions"], code: "NUMBER_TYPE_COERCE", message: "Value \"\(text)\" is not int.")
            }
            permissions = Permissions(rawValue: raw)
            guard state.guild.botPermissions.isSuperset(of: permissions!) else { return .missingPermissions }
        }
        guard state.guild.roles.count < 250 else {
            return .error(400, .maximumRoles, "Maximum number of server roles reached (250)")
        }
        let (role, dispatches) = state.guild.createRole(
            name: name, permissions: permissions, color: (body["color"] as? NSNumber)?.intValue ?? 0,
            hoist: (body["hoist"] as? Bool) ?? false, mentionable: (body["mentionable"] as? Bool) ?? false)
        state.deliverFromREST(dispatches)
        return .json(200, role)
    }

    /// The role of the URL if the bot may edit or delete it (below its highest role), or the refusal.
    private func editableRole(_ match: Match, _ state: FakeState) -> Result<Role, FakeHTTPResponseError> {
        guard let text = match.role, let id = Snowflake(text), let role = state.guild.roles[id] else {
            return .failure(.init(response: .unknownRole))
        }
        guard state.guild.botPermissions.contains(.manageRoles) else { return .failure(.init(response: .missingPermissions)) }
        guard !twoFactorBlocks(state) else { return .failure(.init(response: .twoFactorRequired)) }
        guard id == state.guild.id || state.guild.highestRole(of: state.guild.botID).ranksAbove(role) else {
            return .failure(.init(response: .missingPermissions))
        }
        return .success(role)
    }

    private func modifyRole(_ match: Match, _ state: inout FakeState) -> FakeHTTPResponse {
        let body: [String: Any]
        switch jsonObject() {
        case .success(let value): body = value
        case .failure(let error): return error.response
        }
        let role: Role
        switch editableRole(match, state) {
        case .success(let value): role = value
        case .failure(let refusal): return refusal.response
        }
        var dispatches: [FakeDispatch] = []
        if let name = body["name"] as? String {
            guard (1...100).contains(name.count) else {
                return .invalidForm(["name"], code: "BASE_TYPE_BAD_LENGTH", message: "Must be between 1 and 100 in length.")
            }
            guard role.id != state.guild.id else { return .missingPermissions }
            dispatches += state.guild.renameRole(role.id, to: name)
        }
        if let value = body["permissions"], !(value is NSNull) {
            let text = (value as? String) ?? (value as? NSNumber)?.stringValue ?? ""
            guard let raw = UInt64(text) else {
                return .invalidForm(["permissions"], code: "NUMBER_TYPE_COERCE", message: "Value \"\(text)\" is not int.")
            }
            let added = Permissions(rawValue: raw).subtracting(role.permissions)
            guard state.guild.botPermissions.isSuperset(of: added) else { return .missingPermissions }
            dispatches += state.guild.setRolePermissions(role.id, Permissions(rawValue: raw))
        }
        state.deliverFromREST(dispatches)
        return .json(200, state.guild.roles[role.id]!)
    }

    private func deleteRole(_ match: Match, _ state: inout FakeState) -> FakeHTTPResponse {
        let role: Role
        switch editableRole(match, state) {
        case .success(let value): role = value
        case .failure(let refusal): return refusal.response
        }
        guard role.id != state.guild.id else { return .error(400, .general, "Cannot delete @everyone") }
        guard !role.managed else { return .missingPermissions }
        state.deliverFromREST(state.guild.deleteRole(role.id))
        return .noContent
    }

    private func listMembers(_ state: inout FakeState) -> FakeHTTPResponse {
        guard state.guild.application.membersIntentEnabled else { return .missingAccess }
        var limit = 1
        var after = Snowflake(0)
        for pair in (request.query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            let value = parts.count > 1 ? parts[1] : ""
            switch parts[0] {
            case "limit":
                guard let number = Int(value), (1...1000).contains(number) else {
                    return .invalidForm(["limit"], code: "NUMBER_TYPE_MAX", message: "int value should be between 1 and 1000.")
                }
                limit = number
            case "after":
                guard let id = Snowflake(value) else {
                    return .invalidForm(["after"], code: "NUMBER_TYPE_COERCE", message: "Value \"\(value)\" is not snowflake.")
                }
                after = id
            default: break
            }
        }
        let ids = state.guild.sortedMemberIDs
        let start = ids.insertionIndex(of: Snowflake(after.rawValue &+ 1))
        let page = ids[start..<min(start + limit, ids.count)].compactMap { state.guild.members[$0] }
        return .json(200, page.map { MemberPayload(member: $0) })
    }

    private func modifyMember(_ match: Match, _ state: inout FakeState) -> FakeHTTPResponse {
        let body: [String: Any]
        switch jsonObject() {
        case .success(let value): body = value
        case .failure(let error): return error.response
        }
        var newRoles: [Snowflake]?
        if let value = body["roles"], !(value is NSNull) {
            guard let list = value as? [Any] else {
                return .invalidForm(["roles"], code: "BASE_TYPE_LIST", message: "Must be an array.")
            }
            var roles: [Snowflake] = []
            for (index, item) in list.enumerated() {
                guard let text = (item as? String) ?? ((item as? NSNumber).flatMap { $0 is Bool ? nil : $0.stringValue }),
                      let id = Snowflake(text)
                else {
                    return .invalidForm(["roles", String(index)], code: "NUMBER_TYPE_COERCE",
                                        message: "Value \"\(item)\" is not snowflake.")
                }
                roles.append(id)
            }
            newRoles = roles
        }
        var newNick: String??
        if let value = body["nick"] {
            if value is NSNull {
                newNick = .some(nil)
            } else if let text = value as? String {
                let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
                guard text.isEmpty || (1...32).contains(trimmed.unicodeScalars.count) else {
                    return .invalidForm(["nick"], code: "BASE_TYPE_BAD_LENGTH", message: "Must be between 1 and 32 in length.")
                }
                newNick = .some(trimmed.isEmpty ? nil : trimmed)
            } else {
                return .invalidForm(["nick"], code: "BASE_TYPE_STRING", message: "Could not interpret \"\(value)\" as string.")
            }
        }
        guard let target = member(match, state), let targetID = target.user?.id else { return .unknownMember }
        if let refusal = Self.refuseEdit(state.guild, target: target, roles: newRoles, nick: newNick,
                                         twoFactorBlocks: twoFactorBlocks(state)) {
            return refusal
        }
        let dispatches = state.guild.editMember(targetID, roles: newRoles, nick: newNick)
        state.deliverFromREST(dispatches)
        return .json(200, MemberPayload(member: state.guild.members[targetID]!))
    }

    /// Why Discord refuses this member edit, if it does. Takes the guild borrowed: no copy of a big guild.
    private static func refuseEdit(_ guild: FakeGuild, target: GuildMember, roles newRoles: [Snowflake]?, nick newNick: String??,
                                   twoFactorBlocks: Bool) -> FakeHTTPResponse? {
        guard let targetID = target.user?.id else { return .unknownMember }
        if let newRoles {
            for id in newRoles where guild.roles[id] == nil || id == guild.id { return .unknownRole }
            let changed = Set(target.roles).symmetricDifference(Set(newRoles))
            if !changed.isEmpty {
                guard guild.botPermissions.contains(.manageRoles) else { return .missingPermissions }
                guard !twoFactorBlocks else { return .twoFactorRequired }
                for id in changed where !guild.botCanAssign(guild.roles[id]!) { return .missingPermissions }
            }
        }
        if let newNick, newNick != target.nick {
            guard guild.botPermissions.contains(.manageNicknames) || targetID == guild.botID else { return .missingPermissions }
            guard targetID == guild.botID || guild.botOutranks(memberID: targetID) else { return .missingPermissions }
        }
        return nil
    }

    private func changeMemberRole(_ match: Match, add: Bool, _ state: inout FakeState) -> FakeHTTPResponse {
        guard let target = member(match, state), let targetID = target.user?.id else { return .unknownMember }
        guard let roleText = match.role, let roleID = Snowflake(roleText) else { return .unknownRole }
        if let refusal = Self.refuseRoleChange(state.guild, roleID: roleID, twoFactorBlocks: twoFactorBlocks(state)) {
            return refusal
        }
        let roles = add ? target.roles + [roleID] : target.roles.filter { $0 != roleID }
        state.deliverFromREST(state.guild.editMember(targetID, roles: roles, nick: nil))
        return .noContent
    }

    private static func refuseRoleChange(_ guild: FakeGuild, roleID: Snowflake, twoFactorBlocks: Bool) -> FakeHTTPResponse? {
        guard roleID != guild.id, let role = guild.roles[roleID] else { return .unknownRole }
        guard guild.botPermissions.contains(.manageRoles) else { return .missingPermissions }
        guard !twoFactorBlocks else { return .twoFactorRequired }
        guard guild.botCanAssign(role) else { return .missingPermissions }
        return nil
    }

    private func kick(_ match: Match, _ state: inout FakeState) -> FakeHTTPResponse {
        guard let target = member(match, state), let targetID = target.user?.id else { return .unknownMember }
        if let refusal = Self.refuseKick(state.guild, targetID: targetID, twoFactorBlocks: twoFactorBlocks(state)) {
            return refusal
        }
        state.deliverFromREST(state.guild.removeMember(targetID))
        return .noContent
    }

    private static func refuseKick(_ guild: FakeGuild, targetID: Snowflake, twoFactorBlocks: Bool) -> FakeHTTPResponse? {
        guard guild.botPermissions.contains(.kickMembers) else { return .missingPermissions }
        guard !twoFactorBlocks else { return .twoFactorRequired }
        guard targetID != guild.botID, guild.botOutranks(memberID: targetID) else { return .missingPermissions }
        return nil
    }

    private func addMember(_ match: Match, _ state: inout FakeState) -> FakeHTTPResponse {
        let body: [String: Any]
        switch jsonObject() {
        case .success(let value): body = value
        case .failure(let error): return error.response
        }
        guard let token = body["access_token"] as? String else {
            return .invalidForm(["access_token"], code: "BASE_TYPE_REQUIRED", message: "This field is required")
        }
        guard let userText = match.user, let userID = Snowflake(userText) else { return .unknownMember }
        let invalidToken = FakeHTTPResponse.error(403, .invalidOAuth2AccessToken, "Invalid OAuth2 access token")
        guard let grant = state.accessTokens[token], grant.expiresAt > state.now, grant.userID == userID,
              grant.scope.split(separator: " ").contains("guilds.join")
        else { return invalidToken }
        guard state.guild.botPermissions.contains(.createInstantInvite) else { return .missingPermissions }
        if state.guild.members[userID] != nil { return .noContent }
        guard let user = state.oauthUsers[userID] else { return .error(404, .unknownUser, "Unknown User") }
        let roles: [Snowflake], nick: String?
        switch Self.rolesAndNickForJoin(state.guild, body: body, twoFactorBlocks: twoFactorBlocks(state)) {
        case .success(let value): (roles, nick) = value
        case .failure(let refusal): return refusal.response
        }
        let member = GuildMember(user: user, nick: nick, roles: roles, joinedAt: "2025-06-01T00:00:00.000000+00:00")
        state.deliverFromREST(state.guild.insertMember(member))
        return .json(201, MemberPayload(member: member))
    }

    /// The roles and nickname of an Add Guild Member body, or why Discord refuses them.
    private static func rolesAndNickForJoin(_ guild: FakeGuild, body: [String: Any], twoFactorBlocks: Bool)
        -> Result<([Snowflake], String?), FakeHTTPResponseError> {
        var roles: [Snowflake] = []
        if let list = body["roles"] as? [Any] {
            for (index, item) in list.enumerated() {
                guard let text = item as? String, let id = Snowflake(text) else {
                    return .failure(.init(response: .invalidForm(["roles", String(index)], code: "NUMBER_TYPE_COERCE",
                                                                 message: "Value \"\(item)\" is not snowflake.")))
                }
                guard let role = guild.roles[id], id != guild.id else { return .failure(.init(response: .unknownRole)) }
                guard guild.botPermissions.contains(.manageRoles), guild.botCanAssign(role) else {
                    return .failure(.init(response: .missingPermissions))
                }
                roles.append(id)
            }
            if !roles.isEmpty, twoFactorBlocks { return .failure(.init(response: .twoFactorRequired)) }
        }
        var nick: String?
        if let text = body["nick"] as? String, !text.isEmpty {
            guard text.unicodeScalars.count <= 32 else {
                return .failure(.init(response: .invalidForm(["nick"], code: "BASE_TYPE_BAD_LENGTH",
                                                             message: "Must be between 1 and 32 in length.")))
            }
            guard guild.botPermissions.contains(.manageNicknames) else { return .failure(.init(response: .missingPermissions)) }
            nick = text
        }
        return .success((roles, nick))
    }
}

/// `GET /applications/@me`: flags carry GATEWAY_GUILD_MEMBERS_LIMITED (1 << 15) when the members intent is on.
struct ApplicationPayload: Encodable {
    var application: FakeApplication

    enum CodingKeys: String, CodingKey { case id, name, bot, flags, botPublic = "bot_public", owner }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(application.id, forKey: .id)
        try c.encode(application.botUser.username, forKey: .name)
        try c.encode(application.botUser, forKey: .bot)
        try c.encode(application.membersIntentEnabled ? 1 << 15 : 0, forKey: .flags)
        try c.encode(false, forKey: .botPublic)
        try c.encode(User(id: Snowflake(application.id.rawValue &+ 1), username: "app_owner"), forKey: .owner)
    }
}

/// A response to answer early, carried through a `Result`.
struct FakeHTTPResponseError: Error {
    var response: FakeHTTPResponse
}
