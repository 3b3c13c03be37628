import AuthStore
import DiscordModels
import DiscordREST
import Foundation
import Logging
import WardenConfig

/// Linking a Discord account to an Auth user through OAuth2 (SPEC 1.9).
///
/// 1. Auth asks for an activation link (`POST /api/users/{id}/discord/activation-link`):
///    `{public_url}/discord/activate?token=…`, a signed token bound to the user and to the user's link
///    generation, valid `http.activation_link_ttl` seconds (15 minutes unless the request says
///    otherwise, at most 7 days). It is dead once a link completed (the store bumps the generation).
/// 2. `GET /discord/activate` checks the token, sets a cookie (a random value, HttpOnly, SameSite=Lax,
///    Secure on https, on the callback's path) and redirects to Discord's authorize page with
///    `response_type=code`, `client_id`, `scope=identify guilds.join`, `redirect_uri` = `callback_url`
///    exactly, and a `state` that is signed, valid 10 minutes, single-use, and carries the user, the
///    link it came from and the hash of that cookie.
/// 3. The callback (the path of `callback_url`) is throttled per client address, refuses a state that is
///    forged, expired or not bound to the browser's cookie (400, nothing changed), is throttled per
///    activation link, consumes the state (a reused one is refused, even after a restart), exchanges
///    the code, reads `/users/@me` with the access token, then reserves the (user, account) pair in the
///    store before anything is sent to Discord: a second account for the user, or an account linked
///    to another user, is refused (409, a `link_refused` notification, nobody added). Then it adds the
///    member with their roles and nickname, stores the link (which releases the reservation and spends
///    the activation link) and, for an existing member, asks the backend to apply roles and nickname.
///    If storing fails after the add, the account is kicked again. Then it redirects to
///    `http.success_url` or shows a result page.
///
/// The access token is used for those requests and dropped; it is never stored or logged.
public struct Linking: Sendable {
    /// How long an OAuth `state` (and the browser's cookie) stays valid.
    public static let stateLifetime: Int64 = 600
    /// How far the wall clock may step back between issuing a state and its callback.
    static let clockAllowance: Int64 = 60
    /// The route of activation links.
    public static let activatePath = "/discord/activate"
    /// The cookie `/discord/activate` sets and the callback checks.
    public static let cookieName = "warden_link"
    /// The longest one callback may hold its (user, account) pair: longer than the slowest callback
    /// (retries included), short enough that a crash mid-link blocks the user only that long.
    static let reservationLifetime: TimeInterval = 900

    let discord: WardenConfiguration.Discord
    let http: WardenConfiguration.HTTP
    let store: AuthStore
    let rest: any DiscordREST
    let backend: any AdminBackend
    let signer: TokenSigner
    let now: @Sendable () -> Date
    let logger: Logger
    let throttle = Locked(CallbackThrottle())

    public init(configuration: WardenConfiguration, store: AuthStore, rest: any DiscordREST, backend: any AdminBackend,
                signer: TokenSigner, now: @escaping @Sendable () -> Date = { Date() },
                logger: Logger = Logger(label: "warden.linking")) {
        self.discord = configuration.discord
        self.http = configuration.http
        self.store = store
        self.rest = rest
        self.backend = backend
        self.signer = signer
        self.now = now
        self.logger = logger
    }

    /// The callback route: the path of `callback_url`, trailing slash included ("/" when it has none).
    public var callbackPath: String { discord.callbackURL.path.isEmpty ? "/" : discord.callbackURL.path }

    private var nowSeconds: Int64 { Int64(now().timeIntervalSince1970.rounded(.down)) }

    // MARK: - Activation link

    /// A new activation link for a stored user.
    /// - Parameters:
    ///   - ttl: seconds it stays valid, 1 to 604800 (7 days); nil: `http.activation_link_ttl`.
    ///   - guildID: the guild to link into; nil or the configured guild (one guild today).
    /// - Throws: ``AdminAPIError`` 400 naming `ttl` or `guild_id`, 404 for an unknown user.
    public func activationLink(userID: Int64, ttl: Int? = nil, guildID: Snowflake? = nil) async throws -> ActivationLink {
        if let guildID, guildID != discord.guildID {
            throw AdminAPIError.badRequest("guild_id: Warden links into guild \(discord.guildID) only (discord.guild_id), not \(guildID)")
        }
        let lifetime = ttl ?? http.activationLinkTTL
        guard (1...WardenConfiguration.HTTP.maximumActivationLinkTTL).contains(lifetime) else {
            throw AdminAPIError.badRequest("ttl: must be a whole number of seconds from 1 to \(WardenConfiguration.HTTP.maximumActivationLinkTTL) (7 days)")
        }
        guard try await store.user(id: userID) != nil else { throw AdminAPIError.notFound("no Auth user with id \(userID)") }
        let generation = try await store.linkGeneration(userID: userID)
        let expiresAt = nowSeconds + Int64(lifetime)
        let token = signer.sign(SignedToken(purpose: .activation, userID: userID, expiresAt: expiresAt, generation: generation))
        var base = http.publicURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        return ActivationLink(url: base + Self.activatePath + "?token=" + token,
                              expiresAt: Date(timeIntervalSince1970: TimeInterval(expiresAt)))
    }

    // MARK: - Activate

    /// `GET /discord/activate?token=…`: 302 to Discord's authorize page with the browser's cookie, or a
    /// page saying what is wrong.
    public func activate(token: String?) async -> LinkingResult {
        guard let token, !token.isEmpty else {
            return .page(LinkPage(status: 400, title: "Link missing",
                                  message: "This address needs the activation link from Auth. Open Auth and start linking your Discord account again."))
        }
        let activation: SignedToken
        do {
            activation = try signer.verify(token, purpose: .activation, now: nowSeconds)
        } catch {
            let why = error == .expired ? "This activation link has expired." : "This activation link is not valid (\(error))."
            return .page(LinkPage(status: 400, title: "Activation link refused", message: why + " Ask Auth for a new one."))
        }
        do {
            if let refusal = try await refusalForUser(activation.userID) { return .page(refusal) }
            if try await store.linkGeneration(userID: activation.userID) != activation.generation { return .page(Self.spentLinkPage) }
        } catch {
            logger.error("linking: could not read the Auth user", metadata: ["user_id": "\(activation.userID)", "error": "\(error)"])
            return .page(Self.internalErrorPage)
        }
        let browser = BrowserBinding.random()
        let state = signer.sign(SignedToken(purpose: .oauthState, userID: activation.userID, expiresAt: nowSeconds + Self.stateLifetime,
                                            generation: activation.generation, link: activation.nonce, browser: browser.hash))
        let cookie = LinkCookie(name: Self.cookieName, value: browser.value, path: callbackPath,
                                secure: http.publicURL.scheme == "https", maxAge: Int(Self.stateLifetime))
        return .redirect(to: authorizeURL(state: state), cookie: cookie)
    }

    /// Discord's authorize URL for one state.
    func authorizeURL(state: String) -> String {
        let base = discord.oauthAuthorizeURL.absoluteString
        let parameters = [
            ("response_type", "code"),
            ("client_id", discord.appID.description),
            ("scope", "identify guilds.join"),
            ("redirect_uri", discord.callbackURL.absoluteString),
            ("state", state),
        ]
        let query = parameters.map { "\($0.0)=\(Self.percentEncoded($0.1))" }.joined(separator: "&")
        let separator = discord.oauthAuthorizeURL.query == nil ? "?" : (base.hasSuffix("?") || base.hasSuffix("&") ? "" : "&")
        return base + separator + query
    }

    // MARK: - Callback

    /// What the callback route passes on of one request.
    public struct CallbackRequest: Sendable {
        public var code: String?
        public var state: String?
        /// Discord's `error` parameter (the user cancelled, or Discord refused).
        public var error: String?
        /// The values of the browser's `Cookie` headers.
        public var cookies: [String]
        /// The client's address (``ClientAddressResolver``), the key of the per-address throttle.
        public var client: String

        public init(code: String?, state: String?, error: String? = nil, cookies: [String] = [], client: String = "unknown") {
            self.code = code; self.state = state; self.error = error; self.cookies = cookies; self.client = client
        }
    }

    /// The OAuth callback.
    public func callback(_ request: CallbackRequest) async -> LinkingResult {
        if let throttled = admit(client: request.client) { return .page(throttled) }
        if let discordError = request.error {
            let safeName = String(discordError.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || $0 == "_") }.prefix(40))
            let message = safeName == "access_denied"
                ? "You cancelled the authorization on Discord, so your account was not linked. Nothing was changed. Start again from Auth whenever you like."
                : "Discord did not authorize the link (\(safeName.isEmpty ? "unknown error" : safeName)). Nothing was changed. Start again from Auth."
            return .page(LinkPage(status: 400, title: "Linking cancelled", message: message))
        }
        guard let state = request.state, !state.isEmpty else {
            return .page(LinkPage(status: 400, title: "Linking refused",
                                  message: "The answer from Discord carries no state, so it cannot be trusted. Nothing was changed. Start again from Auth."))
        }
        let signed: SignedToken
        do {
            signed = try signer.verify(state, purpose: .oauthState, now: nowSeconds)
        } catch {
            let why = error == .expired ? "took longer than 10 minutes" : "is not valid (\(error))"
            return .page(LinkPage(status: 400, title: "Linking refused",
                                  message: "This authorization \(why). Nothing was changed. Start again from Auth."))
        }
        // This Warden signs states valid for `stateLifetime`; one valid for longer was not issued by the
        // activation route (a leaked key or a bug), so it is refused rather than honoured for months.
        guard signed.expiresAt <= nowSeconds + Self.stateLifetime + Self.clockAllowance else {
            return .page(LinkPage(status: 400, title: "Linking refused",
                                  message: "This authorization is not valid (its lifetime is too long). Nothing was changed. Start again from Auth."))
        }
        guard BrowserBinding.matches(signed.browser, cookieHeaders: request.cookies, name: Self.cookieName) else {
            logger.notice("linking refused: the callback's browser did not open the activation link",
                          metadata: ["user_id": "\(signed.userID)", "client": "\(request.client)"])
            return .page(LinkPage(status: 400, title: "Linking refused",
                                  message: "This authorization was not started in this browser (or its cookie is gone). Nothing was changed. Open the activation link from Auth in the browser you use, and do not block its cookie."))
        }
        if let throttled = admit(link: signed.link, userID: signed.userID) { return .page(throttled) }
        guard let code = request.code, !code.isEmpty else {
            return .page(LinkPage(status: 400, title: "Linking failed",
                                  message: "Discord sent no authorization code. Nothing was changed. Start again from Auth."))
        }
        let userID = signed.userID
        do {
            let fresh = try await store.consumeOAuthState(signed.nonce, expiresAt: Date(timeIntervalSince1970: TimeInterval(signed.expiresAt)))
            guard fresh else {
                return .page(LinkPage(status: 400, title: "Linking refused",
                                      message: "This authorization was already used. Nothing was changed. Start again from Auth."))
            }
            if let refusal = try await refusalForUser(userID) { return .page(refusal) }
            if try await store.linkGeneration(userID: userID) != signed.generation { return .page(Self.spentLinkPage) }
        } catch {
            logger.error("linking: store failure", metadata: ["user_id": "\(userID)", "error": "\(error)"])
            return .page(Self.internalErrorPage)
        }
        return await link(userID: userID, generation: signed.generation, code: code)
    }

    /// A 429 page when the client address is over its limit, else nil.
    private func admit(client: String) -> LinkPage? {
        let decision = throttle.withLock { $0.admit(client: client, at: now().timeIntervalSince1970) }
        guard case .throttled(let retryAfter) = decision else { return nil }
        logger.debug("linking: callback throttled for its client address", metadata: ["client": "\(client)"])
        return Self.throttledPage(retryAfter: retryAfter)
    }

    /// A 429 page when the activation link is over its limit, else nil.
    private func admit(link: String, userID: Int64) -> LinkPage? {
        let decision = throttle.withLock { $0.admit(link: link, at: now().timeIntervalSince1970) }
        guard case .throttled(let retryAfter) = decision else { return nil }
        logger.debug("linking: callback throttled for its activation link", metadata: ["user_id": "\(userID)"])
        return Self.throttledPage(retryAfter: retryAfter)
    }

    /// Exchange, identify, reserve, add, store: the part of the callback that talks to Discord.
    private func link(userID: Int64, generation: Int64, code: String) async -> LinkingResult {
        let account: User
        let accessToken: Secret
        do {
            let token = try await rest.exchangeAuthorizationCode(code, redirectURI: discord.callbackURL.absoluteString,
                                                                 clientID: discord.appID.description, clientSecret: discord.appSecret)
            accessToken = token.accessToken
            account = try await rest.getCurrentUser(accessToken: accessToken)
        } catch {
            logger.warning("linking: Discord refused the authorization", metadata: ["user_id": "\(userID)", "error": "\(error)"])
            return .page(Self.authorizationFailurePage(error))
        }
        let uid = account.id
        let reservation: LinkReservation
        let stored: StoredUser
        do {
            let expiry = now().addingTimeInterval(Self.reservationLifetime)
            switch try await store.reserveLink(userID: userID, uid: uid, generation: generation, expiresAt: expiry) {
            case .reserved(let held):
                reservation = held
            case .alreadyLinked:
                logger.info("linking: the account was linked already", metadata: ["user_id": "\(userID)", "uid": "\(uid)"])
                return linkedResult(account)
            case .accountTaken:
                return await refuseLinkedElsewhere(userID: userID, uid: uid)
            case .userTaken(let other):
                return await refuseSecondAccount(userID: userID, uid: uid, linked: other)
            case .linkSpent:
                return .page(Self.spentLinkPage)
            case .unknownUser:
                return .page(Self.unknownUserPage)
            }
            guard let user = try await store.user(id: userID) else {
                await release(reservation)
                return .page(Self.unknownUserPage)
            }
            stored = user
        } catch {
            logger.error("linking: store failure", metadata: ["user_id": "\(userID)", "error": "\(error)"])
            return .page(Self.internalErrorPage)
        }

        let added: Bool
        do {
            let plan = try await backend.joinPlan(for: stored.user, uid: uid)
            let result = try await rest.addGuildMember(discord.guildID, user: uid, accessToken: accessToken, roles: plan.roles,
                                                       nick: discord.syncNames ? plan.nick : nil,
                                                       reason: "Auth: account linked to Auth user \(userID)")
            added = result != .alreadyMember
        } catch {
            await release(reservation)
            logger.warning("linking: Discord refused to add the member",
                           metadata: ["user_id": "\(userID)", "uid": "\(uid)", "error": "\(error)"])
            return .page(Self.addMemberFailurePage(error))
        }

        do {
            try await store.completeLink(reservation, account: account)
        } catch {
            return await undoAdd(reservation, added: added, error: error)
        }
        if !added {
            // Already a member: the add applied nothing, so the core applies roles and nickname (after the
            // link is stored, so a store failure never leaves an unlinked member with Auth's roles).
            do {
                try await backend.applyJoinPlan(for: stored.user, uid: uid)
            } catch {
                // The stored link triggers enforcement of the member again; say so and go on.
                logger.warning("linking: could not apply roles and nickname to an existing member",
                               metadata: ["user_id": "\(userID)", "uid": "\(uid)", "error": "\(error)"])
            }
        }
        logger.info("linked a Discord account", metadata: ["user_id": "\(userID)", "uid": "\(uid)"])
        return linkedResult(account)
    }

    /// The link could not be stored after the member add: the account must not stay in the guild with
    /// Auth's roles and no link, so it is kicked again (unless it was a member before, or the account is
    /// now linked to another user by an import, whose enforcement then owns it).
    private func undoAdd(_ reservation: LinkReservation, added: Bool, error: any Error) async -> LinkingResult {
        let (userID, uid) = (reservation.userID, reservation.uid)
        let linkedElsewhere = if case AuthStoreError.discordAccountLinkedToAnotherUser = error { true } else { false }
        logger.error("linking: could not store the link", metadata: ["user_id": "\(userID)", "uid": "\(uid)", "error": "\(error)"])
        if added && !linkedElsewhere {
            do {
                try await rest.removeGuildMember(discord.guildID, user: uid,
                                                 reason: "Auth: the link to Auth user \(userID) could not be stored; removing the account just added")
                logger.notice("linking: kicked the account again, as its link could not be stored", metadata: ["user_id": "\(userID)", "uid": "\(uid)"])
            } catch {
                logger.critical("linking: the account was added but neither linked nor kicked; remove it from the guild by hand",
                                metadata: ["user_id": "\(userID)", "uid": "\(uid)", "error": "\(error)"])
            }
        }
        await release(reservation)
        if linkedElsewhere { return await refuseLinkedElsewhere(userID: userID, uid: uid) }
        return .page(Self.internalErrorPage)
    }

    private func release(_ reservation: LinkReservation) async {
        do {
            try await store.releaseLinkReservation(reservation)
        } catch {
            // It lapses on its own (`reservationLifetime`).
            logger.warning("linking: could not release a link reservation", metadata: ["user_id": "\(reservation.userID)", "error": "\(error)"])
        }
    }

    private func linkedResult(_ account: User) -> LinkingResult {
        if let success = http.successURL { return .redirect(to: success.absoluteString) }
        return .page(LinkPage(status: 200, title: "Discord account linked",
                              message: "Your Discord account \(account.display) is now linked to your Auth account and is a member of the server, with the roles Auth gives you. You can close this page."))
    }

    private func refuseLinkedElsewhere(userID: Int64, uid: Snowflake) async -> LinkingResult {
        await notifyRefusal(userID: userID,
                            "Linking refused: Discord account \(uid) is already linked to another Auth user. One Discord account links to one Auth user.")
        logger.notice("linking refused: the Discord account is linked to another Auth user", metadata: ["user_id": "\(userID)", "uid": "\(uid)"])
        return .page(LinkPage(status: 409, title: "Discord account already linked",
                              message: "This Discord account is already linked to another Auth user, and one Discord account can be linked to only one Auth user. Nobody was added to the server. Log in to Discord with another account, or ask an administrator."))
    }

    private func refuseSecondAccount(userID: Int64, uid: Snowflake, linked other: Snowflake) async -> LinkingResult {
        await notifyRefusal(userID: userID,
                            "Linking refused: Auth user \(userID) is already linked (or being linked) to Discord account \(other), so Discord account \(uid) was not linked. One Auth user links one Discord account.")
        logger.notice("linking refused: the Auth user is linked to another Discord account",
                      metadata: ["user_id": "\(userID)", "uid": "\(uid)", "linked_uid": "\(other)"])
        return .page(LinkPage(status: 409, title: "Already linked",
                              message: "Your Auth account is already linked (or being linked) to another Discord account. Nobody was added to the server. Deactivate or reset that link in Auth first."))
    }

    private func notifyRefusal(userID: Int64, _ message: String) async {
        do {
            try await store.addNotification(userID: userID, kind: .linkRefused, message: message)
        } catch {
            logger.error("linking: could not record a notification", metadata: ["user_id": "\(userID)", "error": "\(error)"])
        }
    }

    /// A page when the user cannot link at all (unknown, or without access), else nil.
    private func refusalForUser(_ userID: Int64) async throws -> LinkPage? {
        guard let stored = try await store.user(id: userID) else { return Self.unknownUserPage }
        guard stored.user.hasAccess else {
            return LinkPage(status: 403, title: "No Discord access",
                            message: "Your Auth account is not allowed to use the Discord service. Nothing was changed.")
        }
        return nil
    }

    // MARK: - Pages

    static let internalErrorPage = LinkPage(
        status: 500, title: "Something went wrong", message: "Warden could not finish linking. Nothing was linked; try again in a minute.")
    static let unknownUserPage = LinkPage(
        status: 404, title: "Unknown Auth user", message: "Auth does not know this user any more. Start again from Auth.")
    static let spentLinkPage = LinkPage(
        status: 400, title: "Activation link already used",
        message: "This activation link has already been used to link a Discord account, so it works no more. Nothing was changed. To link another account, reset the link in Auth and start again.")

    static func throttledPage(retryAfter: Int) -> LinkPage {
        LinkPage(status: 429, title: "Too many attempts",
                 message: "Too many linking attempts in a short time. Nothing was changed. Wait a minute, then start again from Auth.",
                 retryAfter: retryAfter)
    }

    static func authorizationFailurePage(_ error: any Error) -> LinkPage {
        guard let error = error as? DiscordRESTError else { return internalErrorPage }
        if error.isTransient {
            return LinkPage(status: 503, title: "Discord unavailable",
                            message: "Discord could not be reached. Nothing was linked; start again from Auth in a minute.")
        }
        if case .http(let failure) = error, failure.oauthError == "invalid_client" {
            return LinkPage(status: 502, title: "Linking is misconfigured",
                            message: "Discord refused Warden's application credentials. Nothing was linked; please tell an administrator.")
        }
        return LinkPage(status: 400, title: "Authorization refused",
                        message: "Discord did not accept this authorization (it may have expired or been used already). Nothing was linked; start again from Auth.")
    }

    static func addMemberFailurePage(_ error: any Error) -> LinkPage {
        guard let error = error as? DiscordRESTError else { return internalErrorPage }
        if error.isTransient {
            return LinkPage(status: 503, title: "Discord unavailable",
                            message: "Discord could not be reached to add you to the server. Nothing was linked; start again from Auth in a minute.")
        }
        let nothing = "Nothing was linked."
        switch error.code {
        case .userBanned?:
            return LinkPage(status: 403, title: "Banned from the server",
                            message: "This Discord account is banned from the server, so it cannot join. \(nothing) Ask the server's administrators.")
        case .maximumGuilds?:
            return LinkPage(status: 400, title: "Too many servers",
                            message: "Your Discord account is already in the maximum number of servers. Leave a server, then start again from Auth. \(nothing)")
        case .invalidOAuth2AccessToken?:
            return LinkPage(status: 400, title: "Authorization refused",
                            message: "Discord did not accept the authorization to add you to the server (it needs the \"join servers for you\" permission). \(nothing) Start again from Auth.")
        case .missingPermissions?, .missingAccess?:
            return LinkPage(status: 502, title: "The bot lacks a permission",
                            message: "The bot is not allowed to add you to the server with your roles (it needs Create Invite, Manage Roles and Manage Nicknames, ranked above those roles). \(nothing) Please tell an administrator.")
        case .twoFactorRequired?:
            return LinkPage(status: 502, title: "Server requires two-factor authentication",
                            message: "The server requires two-factor authentication for moderators and the bot's owner has none. \(nothing) Please tell an administrator.")
        case .unknownGuild?:
            return LinkPage(status: 502, title: "Bot not in the server",
                            message: "The bot is not in the server any more. \(nothing) Please tell an administrator.")
        default:
            if case .tokenInvalid = error {
                return LinkPage(status: 502, title: "Bot token refused",
                                message: "Discord refused the bot's token. \(nothing) Please tell an administrator.")
            }
            let detail = [error.status.map { "HTTP \($0)" }, error.code.map { "code \($0)" }].compactMap { $0 }.joined(separator: ", ")
            return LinkPage(status: 502, title: "Discord refused",
                            message: "Discord refused to add you to the server\(detail.isEmpty ? "" : " (\(detail))"). \(nothing) Please tell an administrator.")
        }
    }

    // MARK: - Encoding

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}

/// `{"url", "expires_at"}` of `POST /api/users/{id}/discord/activation-link`.
public struct ActivationLink: Codable, Hashable, Sendable {
    public var url: String
    public var expiresAt: Date

    enum CodingKeys: String, CodingKey { case url, expiresAt = "expires_at" }
}
