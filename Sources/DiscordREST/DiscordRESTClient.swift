import DiscordModels
import Logging

/// How the client reaches Discord and how hard it tries.
public struct DiscordRESTConfiguration: Sendable {
    public static let defaultAPIBaseURL = "https://discord.com/api/v10"
    public static let projectURL = "https://github.com/warden-bot/warden"

    public var botToken: Secret
    /// `discord.api_base_url`; `http://` only for tests and local proxies.
    public var apiBaseURL: String
    /// Warden's version, sent in the User-Agent.
    public var version: String
    /// `discord.tasks_max_retries`: how often a transient failure (network, timeout, 5xx) is retried.
    public var maxRetries: Int
    /// `discord.tasks_retry_pause`: the pause before each of those retries.
    public var retryPause: Duration
    /// How often a 429 is retried (each after Discord's `retry_after`, through the limiter).
    public var maxRateLimitRetries: Int
    /// The whole exchange of one attempt must finish within this.
    public var requestTimeout: Duration
    /// The longest the rate limiter waits for one bucket reset or global block before giving up with
    /// `DiscordRESTError.rateLimited`.
    public var maxRateLimitWait: Duration
    /// Requests per second across all routes.
    public var globalRateLimit: Int

    public init(botToken: Secret, apiBaseURL: String = defaultAPIBaseURL, version: String = "0.1.0",
                maxRetries: Int = 3, retryPause: Duration = .seconds(60), maxRateLimitRetries: Int = 5,
                requestTimeout: Duration = .seconds(30), maxRateLimitWait: Duration = .seconds(60),
                globalRateLimit: Int = 50) {
        self.botToken = botToken; self.apiBaseURL = apiBaseURL; self.version = version
        self.maxRetries = maxRetries; self.retryPause = retryPause; self.maxRateLimitRetries = maxRateLimitRetries
        self.requestTimeout = requestTimeout; self.maxRateLimitWait = maxRateLimitWait
        self.globalRateLimit = globalRateLimit
    }

    /// `DiscordBot (https://github.com/warden-bot/warden, VERSION)`.
    public var userAgent: String { "DiscordBot (\(Self.projectURL), \(version))" }
}

/// The Discord REST client: builds each request (base URL, token, User-Agent, audit-log reason),
/// passes it through the `RateLimiter`, sends it on an `HTTPTransport`, retries what is transient and
/// turns error answers into `DiscordRESTError`.
///
/// Retries (SPEC 1.8): a network error, timeout or 5xx is retried `maxRetries` times, `retryPause`
/// apart (on the injected clock), unless the request is not idempotent; a 429 is retried after
/// Discord's `retry_after` (the limiter holds the bucket until then) up to `maxRateLimitRetries` times;
/// a 4xx is returned at once. A 401 on the bot token stops all later requests.
public final class DiscordRESTClient: DiscordREST {
    public let configuration: DiscordRESTConfiguration
    public let rateLimiter: RateLimiter
    private let transport: any HTTPTransport
    private let clock: ElapsedClock
    private let observer: (any RESTObserver)?
    private let logger: Logger
    private let baseURL: String

    public init<C: Clock>(configuration: DiscordRESTConfiguration, transport: any HTTPTransport, clock: C,
                          observer: (any RESTObserver)? = nil,
                          logger: Logger = Logger(label: "warden.rest")) where C.Duration == Duration {
        self.configuration = configuration
        self.transport = transport
        self.clock = ElapsedClock(clock)
        self.rateLimiter = RateLimiter(clock: clock, globalLimit: configuration.globalRateLimit,
                                       maxWait: configuration.maxRateLimitWait)
        self.observer = observer
        self.logger = logger
        var base = configuration.apiBaseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
    }

    public convenience init(configuration: DiscordRESTConfiguration, transport: any HTTPTransport,
                            observer: (any RESTObserver)? = nil, logger: Logger = Logger(label: "warden.rest")) {
        self.init(configuration: configuration, transport: transport, clock: ContinuousClock(),
                  observer: observer, logger: logger)
    }

    // Swift 6.3.1's optimizer crashes on this function in release builds (CopyPropagation: "Found
    // ownership error"); unoptimized it costs nothing that matters next to a network round trip.
    @_optimize(none)
    public func send(_ request: DiscordRequest) async throws -> DiscordResponse {
        let http = httpRequest(for: request)
        let route = request.route.key
        let botAuthorized: Bool
        if case .bot = request.authorization { botAuthorized = true } else { botAuthorized = false }
        var transientFailures = 0
        var rateLimitRetries = 0
        var attempt = 0

        while true {
            attempt += 1
            let queued = clock.now()
            let permit: RateLimitPermit
            do {
                permit = try await rateLimiter.acquire(request.route, botAuthorized: botAuthorized)
            } catch let refusal as RateLimitRefusal {
                logger.debug("REST request refused by the rate limiter", metadata: ["route": "\(route)", "reason": "\(refusal)"])
                switch refusal {
                case .tokenInvalid: throw DiscordRESTError.tokenInvalid
                case .cloudflareBan(let rest): throw DiscordRESTError.cloudflareBan(retryAfter: rest)
                case .wouldWait(let wait): throw DiscordRESTError.rateLimited(retryAfter: wait, global: false)
                case .writesPaused(let count): throw DiscordRESTError.writesPaused(invalidRequests: count)
                }
            }
            let sent = clock.now()
            let waited = sent - queued

            let response: HTTPResponse
            do {
                response = try await transport.send(http)
            } catch {
                await rateLimiter.complete(permit, with: nil)
                let failure = (error as? HTTPTransportError) ?? (error is CancellationError ? nil : .network("\(error)"))
                report(route, status: nil, failure, since: sent, waited: waited, attempt: attempt, .completed)
                guard let failure, !Task.isCancelled else { throw CancellationError() }
                logger.debug("REST request failed", metadata: ["route": "\(route)", "error": "\(failure)", "attempt": "\(attempt)"])
                guard failure != .cancelled, request.isIdempotent, transientFailures < configuration.maxRetries else {
                    throw DiscordRESTError.transport(failure)
                }
                transientFailures += 1
                try await clock.sleep(for: configuration.retryPause)
                continue
            }

            let outcome = await rateLimiter.complete(permit, with: response)
            report(route, status: response.status, nil, since: sent, waited: waited, attempt: attempt, outcome)
            logger.debug("REST request", metadata: [
                "route": "\(route)", "status": "\(response.status)", "attempt": "\(attempt)",
                "ms": "\(Self.milliseconds(clock.now() - sent))", "rate_limit_wait_ms": "\(Self.milliseconds(waited))",
            ])

            switch response.status {
            case 200..<300:
                return DiscordResponse(status: response.status, headers: response.headers, body: response.body)
            case 429:
                switch outcome {
                case .cloudflareBan(let retryAfter):
                    throw DiscordRESTError.cloudflareBan(retryAfter: retryAfter)
                case .rateLimited(let retryAfter, let global, _):
                    guard rateLimitRetries < configuration.maxRateLimitRetries else {
                        throw DiscordRESTError.rateLimited(retryAfter: retryAfter, global: global)
                    }
                    rateLimitRetries += 1
                    continue  // the limiter holds the bucket (or everything) until retry_after
                case .completed, .tokenInvalid:
                    throw DiscordRESTError.rateLimited(retryAfter: .seconds(1), global: false)
                }
            case 401 where botAuthorized:
                logger.debug("REST: the bot token was refused (401); requests stopped")
                throw DiscordRESTError.tokenInvalid
            case 500...:
                let error = DiscordHTTPError(route: route, status: response.status, responseBody: response.body,
                                             keepExcerpt: !request.hasSecretBodies)
                guard request.isIdempotent, transientFailures < configuration.maxRetries else {
                    throw DiscordRESTError.http(error)
                }
                transientFailures += 1
                try await clock.sleep(for: configuration.retryPause)
                continue
            default:
                let error = DiscordHTTPError(route: route, status: response.status, responseBody: response.body,
                                             keepExcerpt: !request.hasSecretBodies)
                if response.status == 404, error.code == .unknownMember { throw DiscordRESTError.unknownMember }
                logger.debug("REST request refused", metadata: ["route": "\(route)", "error": "\(error)"])
                throw DiscordRESTError.http(error)
            }
        }
    }

    /// The full URL, query and headers. Only here does a token leave its `Secret`.
    func httpRequest(for request: DiscordRequest) -> HTTPRequest {
        var url = baseURL + request.route.path
        if !request.query.isEmpty {
            url += "?" + request.query.map {
                AuditLogReason.percentEncoded($0.name) + "=" + AuditLogReason.percentEncoded($0.value)
            }.joined(separator: "&")
        }
        var headers = HTTPHeaders()
        switch request.authorization {
        case .bot: headers.add(name: "Authorization", value: "Bot " + configuration.botToken.revealed)
        case .bearer(let token): headers.add(name: "Authorization", value: "Bearer " + token.revealed)
        case .none: break
        }
        headers.add(name: "User-Agent", value: configuration.userAgent)
        if let contentType = request.contentType, request.body != nil {
            headers.add(name: "Content-Type", value: contentType)
        }
        if let reason = request.auditLogReason, let value = AuditLogReason.headerValue(reason) {
            headers.add(name: "X-Audit-Log-Reason", value: value)
        }
        return HTTPRequest(method: request.route.method, url: url, headers: headers, body: request.body,
                           timeout: configuration.requestTimeout)
    }

    private func report(_ route: String, status: Int?, _ error: HTTPTransportError?, since sent: Duration,
                        waited: Duration, attempt: Int, _ outcome: RateLimitOutcome) {
        observer?.requestFinished(RESTRequestReport(
            route: route, status: status, transportError: error, duration: clock.now() - sent,
            rateLimitWait: waited, attempt: attempt, rateLimit: outcome))
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
