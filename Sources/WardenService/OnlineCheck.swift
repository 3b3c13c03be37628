import DiscordModels
import DiscordREST
import GuildState

/// `warden check-config --online`: asks Discord whether the configuration works — the token, the guild,
/// the Server Members Intent, the bot's permissions and its place in the role hierarchy — with a handful
/// of reads and no writes.
public struct OnlineCheck: Sendable {
    public enum Verdict: Sendable, Equatable {
        case ok
        /// Works, but something needs attention (a role above the bot, a missing permission).
        case warning
        /// Discord refused in a way that needs the operator (REST 401, intent not enabled): exit 3.
        case fatal
        /// Could not ask (network, Discord down): exit 1.
        case unreachable
    }

    public struct Finding: Sendable, Equatable {
        public var check: String
        public var ok: Bool
        public var message: String
    }

    public struct Report: Sendable {
        public var findings: [Finding] = []
        public var verdict: Verdict = .ok

        mutating func pass(_ check: String, _ message: String) { findings.append(Finding(check: check, ok: true, message: message)) }
        mutating func fail(_ check: String, _ message: String, _ verdict: Verdict) {
            findings.append(Finding(check: check, ok: false, message: message))
            let rank: [Verdict: Int] = [.ok: 0, .warning: 1, .unreachable: 2, .fatal: 3]
            if rank[verdict]! > rank[self.verdict]! { self.verdict = verdict }
        }
    }

    public let rest: any DiscordREST
    public let guildID: Snowflake
    public let syncNames: Bool

    public init(rest: any DiscordREST, guildID: Snowflake, syncNames: Bool) {
        self.rest = rest
        self.guildID = guildID
        self.syncNames = syncNames
    }

    public func run() async -> Report {
        var report = Report()
        let bot: User
        do {
            bot = try await rest.getCurrentUser()
            report.pass("token", "the bot token works (\(bot.display))")
        } catch DiscordRESTError.tokenInvalid {
            report.fail("token", "Discord answered 401: the bot token is invalid (auth_failed)", .fatal)
            return report
        } catch {
            report.fail("token", "could not reach Discord: \(error)", .unreachable)
            return report
        }

        let guild: Guild
        do {
            guild = try await rest.getGuild(guildID)
            report.pass("guild", "the bot is in guild \"\(guild.name)\" (\(guild.id))")
        } catch let error as DiscordRESTError where error.status == 403 || error.status == 404 {
            report.fail("guild", "the bot is not in guild \(guildID) (\(error)); install it with `warden add-bot-url`", .fatal)
            return report
        } catch {
            report.fail("guild", "could not read the guild: \(error)", .unreachable)
            return report
        }

        do {
            _ = try await rest.listGuildMembers(guildID, limit: 1)
            report.pass("intents", "the Server Members Intent is enabled")
        } catch let error as DiscordRESTError where error.has(.missingAccess) || error.status == 403 {
            report.fail("intents", "listing members was refused (\(error)): enable \"Server Members Intent\" for the bot in the developer portal (intents_disallowed)", .fatal)
        } catch {
            report.fail("intents", "could not list members: \(error)", .unreachable)
        }

        do {
            let botMember = try await rest.getGuildMember(guildID, user: bot.id)
            var state = GuildState(guildID: guildID)
            _ = state.apply(.ready(Ready(user: bot, guilds: [UnavailableGuild(id: guildID, unavailable: true)],
                                         sessionID: "check", resumeGatewayURL: "")))
            var snapshot = guild
            snapshot.members = [botMember]
            _ = state.apply(.guildCreate(snapshot))

            var missing = state.missingBotPermissions()
            if !syncNames { missing.removeAll { $0 == "MANAGE_NICKNAMES" } }
            if missing.isEmpty {
                report.pass("permissions", "the bot has every permission it needs")
            } else {
                report.fail("permissions", "the bot lacks \(missing.joined(separator: ", ")) (missing_permissions)", .warning)
            }
            let above = state.rolesAboveBot
            if above.isEmpty {
                report.pass("hierarchy", "the bot's role is at the top")
            } else {
                report.fail("hierarchy", "roles rank above the bot's highest role: \(above.prefix(8).map { "\"\($0.name)\"" }.joined(separator: ", ")); drag the bot's role to the top (bot_role_not_top)", .warning)
            }
            if guild.mfaLevel == .elevated {
                report.pass("2fa", "the guild requires 2FA for moderation: the bot owner's account must have 2FA (two_factor_required otherwise)")
            }
        } catch {
            report.fail("permissions", "could not read the bot's member: \(error)", .unreachable)
        }
        return report
    }
}
