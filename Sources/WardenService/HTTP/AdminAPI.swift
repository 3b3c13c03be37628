import AuthModels
import AuthStore
import DiscordModels
import Foundation
import Hummingbird
import Logging

/// The admin API (SPEC 3.3): every route under `/api`, behind the admin token. Records, links, reserved
/// names, notifications and task runs come from the store; status, alerts, tasks and kicks go through
/// the ``AdminBackend``. A refused request changes nothing: every write is one store transaction that
/// runs only after the whole body was read, parsed and checked.
struct AdminAPI: Sendable {
    /// Body limits: a batch of records may be large (an import of a whole Auth install: ~350 bytes per
    /// record, so about 190,000 records), everything else is small.
    static let batchBodyLimit = 64 << 20
    static let bodyLimit = 64 << 10

    /// SPEC 1.7: tasks that take a user, and bulk tasks that take none (the task runner's own list).
    static let perUserTasks = Set(WardenTask.allCases.filter(\.needsUser).map(\.rawValue))
    static let bulkTasks = Set(WardenTask.allCases.filter { !$0.needsUser }.map(\.rawValue))

    let store: AuthStore
    let backend: any AdminBackend
    let linking: Linking
    let logger: Logger

    func register(on api: RouterGroup<WardenRequestContext>) {
        api.put("users/:id") { request, context in try await putUser(request, context) }
        api.put("users") { request, _ in try await putUsers(request) }
        api.get("users/:id") { _, context in try await getUser(context) }
        api.delete("users/:id") { _, context in try await deleteUser(context) }
        api.post("users/:id/discord/activation-link") { request, context in try await activationLink(request, context) }
        api.delete("users/:id/discord") { _, context in try await deactivate(context) }
        api.get("reserved-group-names") { _, _ in try await reservedNames() }
        api.put("reserved-group-names") { request, _ in try await putReservedNames(request) }
        api.post("tasks/:task") { request, context in try await postTask(request, context) }
        api.get("tasks/:task") { _, context in try await getTask(context) }
        api.get("status") { _, _ in JSONResponse.make(json: try await backend.status()) }
        api.get("alerts") { _, _ in JSONResponse.make(json: await backend.alerts()) }
        api.get("notifications") { request, _ in try await notifications(request) }
    }

    // MARK: - Users

    private func putUser(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let id = try Self.userID(context)
        let body = try await Self.body(of: request, limit: Self.bodyLimit)
        guard !body.isEmpty else { throw AdminAPIError.badRequest("body: a user record (a JSON object) is required") }
        let probe = try AdminJSON.decode(IDProbe.self, from: body, what: "record")
        var bytes = body
        if probe.hasID {
            guard probe.id == id else { throw AdminAPIError.badRequest("id: the record's id must equal the id in the path (\(id)) or be left out") }
        } else {
            guard let spliced = AdminJSON.insertingID(id, into: body) else { throw AdminAPIError.badRequest("body: expected a JSON object") }
            bytes = spliced
        }
        let record = try AdminJSON.decode(AuthUserImport.self, from: bytes, what: "record")
        let result = try await store.upsert(record)
        await backend.enforce(userID: id)
        return JSONResponse.make(json: AuthUserJSON(user: result.stored.user))
    }

    private func putUsers(_ request: Request) async throws -> Response {
        let body = try await Self.body(of: request, limit: Self.batchBodyLimit)
        guard !body.isEmpty else { throw AdminAPIError.badRequest("body: an array of user records is required") }
        let records = try AdminJSON.decode([AuthUserImport].self, from: body, what: "records")
        let results = try await store.upsert(records)
        return JSONResponse.make(json: ["upserted": results.count])
    }

    private func getUser(_ context: WardenRequestContext) async throws -> Response {
        let id = try Self.userID(context)
        guard let overview = try await store.overview(userID: id) else { throw Self.unknownUser(id) }
        let pending = overview.link != nil ? await backend.enforcementPending(userID: id) : false
        return JSONResponse.make(json: UserOverviewJSON(overview: overview, pending: pending))
    }

    private func deleteUser(_ context: WardenRequestContext) async throws -> Response {
        let id = try Self.userID(context)
        guard try await store.user(id: id) != nil else { throw Self.unknownUser(id) }
        try await backend.deleteUser(id: id)
        return JSONResponse.noContent()
    }

    /// The optional body `{"ttl": seconds, "guild_id": id}` (SPEC 1.9, 3.3).
    private func activationLink(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let id = try Self.userID(context)
        let body = try await Self.body(of: request, limit: Self.bodyLimit)
        var options = ActivationLinkRequest()
        if body.contains(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) {
            options = try ActivationLinkRequest.decode(body)
        }
        return JSONResponse.make(json: try await linking.activationLink(userID: id, ttl: options.ttl, guildID: options.guildID))
    }

    private func deactivate(_ context: WardenRequestContext) async throws -> Response {
        let id = try Self.userID(context)
        guard try await store.user(id: id) != nil else { throw Self.unknownUser(id) }
        try await backend.deactivate(userID: id)
        return JSONResponse.noContent()
    }

    // MARK: - Reserved group names

    private func reservedNames() async throws -> Response {
        JSONResponse.make(json: try await store.reservedGroupNames())
    }

    private func putReservedNames(_ request: Request) async throws -> Response {
        let body = try await Self.body(of: request, limit: Self.bodyLimit)
        guard !body.isEmpty else { throw AdminAPIError.badRequest("body: an array of reserved group names is required") }
        let names = try AdminJSON.decode([String].self, from: body, what: "names")
        if let index = names.firstIndex(where: \.isEmpty) {
            throw AdminAPIError.badRequest("[\(index)]: a reserved group name must not be empty")
        }
        return JSONResponse.make(json: try await store.replaceReservedGroupNames(names))
    }

    // MARK: - Tasks

    private func postTask(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let name = context.parameters.get("task") ?? ""
        let body = try await Self.body(of: request, limit: Self.bodyLimit)
        var userID: Int64?
        if body.contains(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) {
            userID = try AdminJSON.decode(TaskRequestBody.self, from: body, what: "task").userID
        }
        if Self.perUserTasks.contains(name) {
            guard let userID else { throw AdminAPIError.badRequest("user_id: \(name) needs {\"user_id\": n}") }
            guard try await store.user(id: userID) != nil else { throw Self.unknownUser(userID) }
        } else if Self.bulkTasks.contains(name) {
            guard userID == nil else { throw AdminAPIError.badRequest("user_id: \(name) covers every linked user and takes no user_id") }
        } else {
            throw AdminAPIError.badRequest("name: unknown task; one of \((Self.perUserTasks.union(Self.bulkTasks)).sorted().joined(separator: ", "))")
        }
        let id = try await backend.enqueueTask(named: name, userID: userID)
        return JSONResponse.make(status: .accepted, json: ["id": id])
    }

    private func getTask(_ context: WardenRequestContext) async throws -> Response {
        let text = context.parameters.get("task") ?? ""
        // An id that names nothing is 404, malformed or not (SPEC 3.3).
        guard let id = Int64(text), id > 0 else { throw Self.unknownID("task run") }
        var run = await backend.taskRun(id: id)
        if run == nil { run = try await store.taskRun(id: id) }
        guard let run else { throw AdminAPIError.notFound("no task run with id \(id)") }
        return JSONResponse.make(json: TaskRunJSON(run: run))
    }

    // MARK: - Notifications

    private func notifications(_ request: Request) async throws -> Response {
        var userID: Int64?
        if let text = request.uri.queryParameters["user_id"] {
            guard let id = Int64(text), id > 0 else { throw AdminAPIError.badRequest("user_id: must be a positive integer") }
            userID = id
        }
        let list = try await store.notifications(userID: userID)
        return JSONResponse.make(json: list.map(NotificationJSON.init))
    }

    // MARK: - Helpers

    /// The user id of the path. One that names nothing is 404 whether or not it is a number at all
    /// (SPEC 3.3: `abc`, `0` and `-1` name no user, just as `999` does).
    static func userID(_ context: WardenRequestContext) throws(AdminAPIError) -> Int64 {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text), id > 0 else { throw unknownID("Auth user") }
        return id
    }

    static func unknownUser(_ id: Int64) -> AdminAPIError { .notFound("no Auth user with id \(id)") }

    /// 404 for a path id that is not even a positive integer (the text is not echoed back).
    static func unknownID(_ what: String) -> AdminAPIError {
        .notFound("no \(what) has this id (ids are positive integers)")
    }

    /// The whole body, at most `limit` bytes (more is answered 413 by ``AdminErrorMiddleware``).
    static func body(of request: Request, limit: Int) async throws -> [UInt8] {
        var request = request
        let buffer = try await request.collectBody(upTo: limit)
        return Array(buffer.readableBytesView)
    }
}

/// Turns errors of the admin routes into `{"error": …}` answers: refusals of the store and the backend
/// into 400 or 404, a body over its limit into 413, anything else into a logged 500 that says nothing
/// about the internals.
struct AdminErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as AdminAPIError {
            throw error
        } catch let error as AuthStoreError {
            switch error {
            case .unknownUser, .unknownTaskRun: throw AdminAPIError.notFound(error.description)
            case .invalidRecord, .batchRecord, .discordAccountLinkedToAnotherUser, .userLinkedToAnotherAccount:
                throw AdminAPIError.badRequest(error.description)
            case .schemaTooNew, .staleEpoch, .unreachable, .database, .unsupported:
                return internalError(error, request)
            }
        } catch let error as AdminBackendError {
            switch error {
            case .invalid: throw AdminAPIError.badRequest(error.description)
            case .notFound: throw AdminAPIError.notFound(error.description)
            }
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw AdminAPIError(status: .contentTooLarge, message: "body: larger than this route accepts")
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            return internalError(error, request)
        }
    }

    private func internalError(_ error: any Error, _ request: Request) -> Response {
        logger.error("admin API request failed", metadata: ["route": "\(request.method) \(request.uri.path)", "error": "\(error)"])
        return JSONResponse.make(status: .internalServerError, json: ["error": "internal error; see Warden's log"])
    }
}
