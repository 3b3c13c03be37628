import AuthModels
import AuthStore
import DiscordModels
import Logging
import RoleSync
import ServiceLifecycle

/// The HTTP server's view of the running daemon (``AdminBackend``): status, alerts, readiness, tasks,
/// deactivation and the join plan of a linking user, from the daemon's parts.
public struct DaemonAdminBackend: AdminBackend {
    let daemon: WardenDaemon
    let parts: WardenDaemon.Parts

    public init(daemon: WardenDaemon, parts: WardenDaemon.Parts) {
        self.daemon = daemon
        self.parts = parts
    }

    public func status() async throws -> AdminStatus {
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
                       highestRoleName: status.cache.botHighestRoleName, missingPermissions: status.missingPermissions),
            linkedUsers: enforcement.linkedUsers, pendingWrites: enforcement.pendingWrites,
            skipped: (enforcement.skipped + enforcement.failed).map {
                AdminStatus.Skip(userID: $0.userID, discordUID: $0.discordUID, name: $0.name, reason: $0.reason)
            },
            observed: enforcement.observed.map {
                AdminStatus.Observation(userID: $0.userID, discordUID: $0.discordUID, name: $0.name, change: $0.change)
            },
            alerts: status.alerts)
    }

    public func alerts() async -> AlertsSnapshot {
        AlertsSnapshot(open: parts.alerts.open, recent: parts.alerts.recent)
    }

    public func isReady() async -> Bool { await daemon.isReady() }

    public func enqueueTask(named name: String, userID: Int64?) async throws -> Int64 {
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

    public func enforce(userID: Int64) async {
        await parts.enforcer.enforce(userID: userID, cause: .authChange)
    }

    public func enforcementPending(userID: Int64) async -> Bool {
        await parts.enforcer.isPending(userID: userID)
    }

    public func taskRun(id: Int64) async -> TaskRun? {
        await parts.tasks.run(id: id)
    }

    public func deactivate(userID: Int64) async throws {
        _ = try await parts.enforcer.deactivate(userID: userID, reason: "Auth: account deactivated", notify: false)
    }

    public func deleteUser(id: Int64) async throws {
        _ = try await parts.enforcer.deactivate(userID: id, reason: "Auth: user deleted", notify: false)
        _ = try await parts.store.deleteUser(id: id)
    }

    public func joinPlan(for user: AuthUser, uid: Snowflake) async throws -> JoinPlan {
        let reserved = try await parts.store.reservedGroupNames()
        let guildID = daemon.configuration.discord.guildID
        let config = RoleSyncConfig(syncNames: daemon.configuration.discord.syncNames,
                                    disableRoleCreation: daemon.configuration.discord.disableRoleCreation,
                                    nameFormats: daemon.configuration.discord.nameFormats)
        let planner = await parts.enforcer.withGuild { guild -> MemberPlanner? in
            guard let owner = guild.ownerID else { return nil }
            return MemberPlanner(roles: guild.roles, guildID: guildID, ownerID: owner, botHighestRole: guild.botHighestRole,
                                 reservedGroupNames: reserved, config: config, botPermissions: guild.botPermissions)
        }
        guard let planner else { return JoinPlan(roles: []) }
        let plan = planner.plan(for: user, memberID: uid, roles: [Snowflake](), nick: nil)
        return JoinPlan(roles: plan.desiredRoles, nick: plan.nickname)
    }

    /// Storing the link (which the HTTP side does next) triggers enforcement of the member.
    public func applyJoinPlan(for user: AuthUser, uid: Snowflake) async throws {}
}

/// The admin API, OAuth linking, health and metrics of a running daemon, as a service beside it:
/// it starts once the daemon has built its parts and stops with the service group.
public struct DaemonHTTPService: Service {
    let daemon: WardenDaemon

    public init(daemon: WardenDaemon) { self.daemon = daemon }

    public func run() async throws {
        guard let parts = await daemon.waitUntilStarted() else { return }
        let server = WardenHTTPServer(
            configuration: daemon.configuration, store: parts.store,
            backend: DaemonAdminBackend(daemon: daemon, parts: parts), rest: parts.rest, metrics: daemon.metrics,
            signer: parts.signer, logger: Logger(label: "warden.http"),
            onServerRunning: { port in Logger(label: "warden.http").info("HTTP server listening", metadata: ["port": "\(port)"]) })
        try await server.run()
    }
}
