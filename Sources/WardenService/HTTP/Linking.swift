import AuthStore
import DiscordModels
import DiscordREST
import Foundation
import Logging
import WardenConfig

/// Linking a Discord account to an Auth user through OAuth2 (SPEC 1.9).
///
/// 1. Auth asks for an activation link (`POST /api/users/{id}/discord/activation-link`):
///    `{public_url}/discord/activate?token=…`, a signed token bound to the user, valid 24 hours.
///    It is not single-use: opening it twice only starts the flow twice.
/// 2. `GET /discord/activate` checks the token and redirects to Discord's authorize page with
///    `response_type=code`, `client_id`, `scope=identify guilds.join`, `redirect_uri` = `callback_url`
///    exactly, and a `state` that is signed, bound to the user, valid 10 minutes and single-use.
/// 3. The callback (the path of `callback_url`) consumes the state (a reused one is refused, even after
///    a restart: the store remembers consumed nonces until they expire), exchanges the code, reads
///    `/users/@me` with the access token, refuses an account linked to another Auth user (409, a
///    `link_refused` notification, nobody added), adds the member with their roles and nickname (or,
///    when already a member, asks the backend to apply them), stores the link and redirects to
///    `http.success_url` or shows a result page.
///
/// The access token is used for those two requests and dropped; it is never stored or logged.
public struct Linking: Sendable {
    /// How long an activation link stays valid.
    public static let activationLifetime: Int64 = 24 * 3600
    /// How long an OAuth `state` stays valid.
    public static let stateLifetime: Int64 = 600
    /// How far the wall clock may step back between issuing a state and its callback.
    static let clockAllowance: Int64 = 60
    /// The route of activation links.
    public static let activatePath = "/discord/activate"

    let discord: WardenConfiguration.Discord
    let http: WardenConfiguration.HTTP
    let store: AuthStore
    let rest: any DiscordREST
    let backend: any AdminBackend
    let signer: TokenSigner
    let now: @Sendable () -> Date
    let logger: Logger

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

    /// A new activation link for a stored user. Throws ``AdminAPIError`` 404 for an unknown user.
    public func activationLink(userID: Int64) async throws -> ActivationLink {
        guard try await store.user(id: userID) != nil else { throw AdminAPIError.notFound("no Auth user with id \(userID)") }
        let expiresAt = nowSeconds + Self.activationLifetime
        let token = signer.sign(SignedToken(purpose: .activation, userID: userID, expiresAt: expiresAt))
        var base = http.publicURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        return ActivationLink(url: base + Self.activatePath + "?token=" + token,
                              expiresAt: Date(timeIntervalSince1970: TimeInterval(expiresAt)))
    }

    // MARK: - Activate

    /// `GET /discord/activate?token=…`: 302 to Discord's authorize page, or a page saying what is wrong.
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
        } catch {
            logger.error("linking: could not read the Auth user", metadata: ["user_id": "\(activation.userID)", "error": "\(error)"])
            return .page(Self.internalErrorPage)
        }
        let stateExpiry = nowSeconds + Self.stateLifetime
        let state = signer.sign(SignedToken(purpose: .oauthState, userID: activation.userID, expiresAt: stateExpiry))
        return .redirect(to: authorizeURL(state: state))
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

    /// The OAuth callback with its query parameters (`code`, `state`, or Discord's `error`).
    public func callback(code: String?, state: String?, error discordError: String?) async -> LinkingResult {
        if let discordError {
            let safeName = String(discordError.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || $0 == "_") }.prefix(40))
            let message = safeName == "access_denied"
                ? "You cancelled the authorization on Discord, so your account was not linked. Nothing was changed. Start again from Auth whenever you like."
                : "Discord did not authorize the link (\(safeName.isEmpty ? "unknown error" : safeName)). Nothing was changed. Start again from Auth."
            return .page(LinkPage(status: 400, title: "Linking cancelled", message: message))
        }
        guard let state, !state.isEmpty else {
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
        guard let code, !code.isEmpty else {
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
        } catch {
            logger.error("linking: store failure", metadata: ["user_id": "\(userID)", "error": "\(error)"])
            return .page(Self.internalErrorPage)
        }
        return await link(userID: userID, code: code)
    }

    /// Exchange, identify, check, add, store: the part of the callback that talks to Discord.
    private func link(userID: Int64, code: String) async -> LinkingResult {
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
        let stored: StoredUser
        do {
            if let holder = try await store.discordLink(uid: uid), holder.userID != userID {
                return await refuseLinkedElsewhere(userID: userID, uid: uid)
            }
            if let own = try await store.discordLink(userID: userID), own.uid != uid {
                return .page(LinkPage(status: 409, title: "Already linked",
                                      message: "Your Auth account is already linked to another Discord account. Deactivate or reset that link in Auth first; nothing was changed."))
            }
            guard let user = try await store.user(id: userID) else { return .page(Self.unknownUserPage) }
            stored = user
        } catch {
            logger.error("linking: store failure", metadata: ["user_id": "\(userID)", "error": "\(error)"])
            return .page(Self.internalErrorPage)
        }

        do {
            let plan = try await backend.joinPlan(for: stored.user, uid: uid)
            let result = try await rest.addGuildMember(discord.guildID, user: uid, accessToken: accessToken, roles: plan.roles,
                                                       nick: discord.syncNames ? plan.nick : nil,
                                                       reason: "Auth: account linked to Auth user \(userID)")
            if result == .alreadyMember {
                do {
                    try await backend.applyJoinPlan(for: stored.user, uid: uid)
                } catch {
                    // The link below triggers enforcement of the member again; say so and go on.
                    logger.warning("linking: could not apply roles and nickname to an existing member",
                                   metadata: ["user_id": "\(userID)", "uid": "\(uid)", "error": "\(error)"])
                }
            }
        } catch {
            logger.warning("linking: Discord refused to add the member",
                           metadata: ["user_id": "\(userID)", "uid": "\(uid)", "error": "\(error)"])
            return .page(Self.addMemberFailurePage(error))
        }

        do {
            try await store.link(userID: userID, to: account)
        } catch AuthStoreError.discordAccountLinkedToAnotherUser {
            // Linked elsewhere between the check and now.
            return await refuseLinkedElsewhere(userID: userID, uid: uid)
        } catch {
            logger.error("linking: could not store the link", metadata: ["user_id": "\(userID)", "uid": "\(uid)", "error": "\(error)"])
            return .page(Self.internalErrorPage)
        }
        logger.info("linked a Discord account", metadata: ["user_id": "\(userID)", "uid": "\(uid)"])
        if let success = http.successURL { return .redirect(to: success.absoluteString) }
        return .page(LinkPage(status: 200, title: "Discord account linked",
                              message: "Your Discord account \(account.display) is now linked to your Auth account and is a member of the server, with the roles Auth gives you. You can close this page."))
    }

    private func refuseLinkedElsewhere(userID: Int64, uid: Snowflake) async -> LinkingResult {
        do {
            try await store.addNotification(
                userID: userID, kind: .linkRefused,
                message: "Linking refused: Discord account \(uid) is already linked to another Auth user. One Discord account links to one Auth user.")
        } catch {
            logger.error("linking: could not record a notification", metadata: ["user_id": "\(userID)", "error": "\(error)"])
        }
        logger.notice("linking refused: the Discord account is linked to another Auth user", metadata: ["user_id": "\(userID)", "uid": "\(uid)"])
        return .page(LinkPage(status: 409, title: "Discord account already linked",
                              message: "This Discord account is already linked to another Auth user, and one Discord account can be linked to only one Auth user. Nobody was added to the server. Log in to Discord with another account, or ask an administrator."))
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
