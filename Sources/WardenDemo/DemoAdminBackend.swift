import AuthStore
import DiscordModels
import RoleSync
import WardenService

/// The HTTP server's view of the running daemon (``AdminBackend``), built from the daemon's public
/// parts. `warden run` does not serve HTTP yet; the demo runs the server next to the daemon with this.
struct DemoAdminBackend: AdminBackend {
    let daemon: WardenDaemon
    let parts: WardenDaemon.Parts

    func status() async throws -> AdminStatus {
        guard let status = await daemon.status() else {
            return AdminStatus(gateway: .init(state: .connecting, session: false), cache: .init(roles: 0, members: 0, complete: false),
                               bot: .init(top: false, highestRole: nil), linkedUsers: 0, pendingWrites: 0)
        }
        let enforcement = status.enforcement
        return AdminStatus(
            gateway: .init(state: AdminStatus.Gateway.State(rawValue: status.gatewayState) ?? .disconnected,
                           session: status.hasSession, latencyMS: status.latencyMilliseconds.map { Int($0) },
                           lastEventAt: status.lastEventAt),
            cache: .init(roles: status.cache.roles, members: status.cache.members, complete: status.cache.complete),
            bot: .init(top: status.cache.botTop, highestRole: status.cache.botHighestRole,
                       missingPermissions: status.missingPermissions),
            linkedUsers: enforcement.linkedUsers, pendingWrites: enforcement.pendingWrites,
            skipped: (enforcement.skipped + enforcement.failed).map {
                AdminStatus.Skip(userID: $0.userID, discordUID: $0.discordUID, reason: $0.reason)
            },
            observed: enforcement.observed.map { AdminStatus.Observation(userID: $0.userID, discordUID: $0.discordUID, change: $0.change) },
            alerts: status.alerts)
    }

    func alerts() async -> AlertsSnapshot {
        AlertsSnapshot(open: parts.alerts.open, recent: parts.alerts.recent)
    }

    func isReady() async -> Bool { await daemon.isReady() }

    func enqueueTask(named name: String, userID: Int64?) async throws -> Int64 {
        do {
            return try await parts.tasks.enqueue(name, userID: userID)
        } catch let error as TaskRequestError {
            switch error {
            case .unknownTask: throw AdminBackendError.invalid(field: "name", reason: error.description)
            case .userRequired, .userNotAllowed: throw AdminBackendError.invalid(field: "user_id", reason: error.description)
            case .unknownUser: throw AdminBackendError.notFound(error.description)
            }
        }
    }

    func deactivate(userID: Int64) async throws {
        _ = try await parts.enforcer.deactivate(userID: userID, reason: "Auth: account deactivated", notify: false)
    }

    func deleteUser(id: Int64) async throws {
        _ = try await parts.enforcer.deactivate(userID: id, reason: "Auth: user deleted", notify: false)
        _ = try await parts.store.deleteUser(id: id)
    }

    func joinPlan(for user: AuthUser, uid: Snowflake) async throws -> JoinPlan {
        let reserved = try await parts.store.reservedGroupNames()
        let guildID = daemon.configuration.discord.guildID
        let config = RoleSyncConfig(syncNames: daemon.configuration.discord.syncNames,
                                    disableRoleCreation: daemon.configuration.discord.disableRoleCreation,
                                    nameFormats: daemon.configuration.discord.nameFormats)
        let planner = await parts.enforcer.withGuild { guild -> MemberPlanner? in
            guard let owner = guild.ownerID else { return nil }
            return MemberPlanner(roles: guild.roles, guildID: guildID, ownerID: owner, botHighestRole: guild.botHighestRole,
                                 reservedGroupNames: reserved, config: config)
        }
        guard let planner else { return JoinPlan(roles: []) }
        let plan = planner.plan(for: user, memberID: uid, roles: [Snowflake](), nick: nil)
        return JoinPlan(roles: plan.desiredRoles, nick: plan.nickname)
    }

    /// Storing the link (which the HTTP side does next) triggers enforcement of the member.
    func applyJoinPlan(for user: AuthUser, uid: Snowflake) async throws {}
}
