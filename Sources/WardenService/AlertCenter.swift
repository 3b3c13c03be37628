import DiscordModels
import DiscordREST
import Foundation
import Logging

/// Where alerts go (SPEC 1.6): the log (always), the admin API and status (`open`, `recent`), the
/// webhook if configured, and the `warden_alerts_open` gauge. Observations are synchronous and cheap;
/// the webhook is sent from its own task and never blocks the caller.
public final class AlertCenter<C: Clock>: Sendable where C.Duration == Duration {
    private let book: Locked<AlertBook<C.Instant>>
    private let clock: C
    private let logger: Logger
    private let metrics: WardenMetrics?
    private let webhook: AsyncStream<AlertNotice>.Continuation?
    /// Notices handed to the webhook and not yet sent (or given up on).
    private let unsent = Locked(0)

    /// - Parameters:
    ///   - webhook: where to post notices, or nil.
    public init(clock: C, repeatAfter: Duration, webhook: AlertWebhook? = nil, metrics: WardenMetrics? = nil,
                logger: Logger = Logger(label: "warden.alerts")) {
        self.clock = clock
        self.book = Locked(AlertBook<C.Instant>(repeatAfter: repeatAfter))
        self.logger = logger
        self.metrics = metrics
        if let webhook {
            let (stream, continuation) = AsyncStream<AlertNotice>.makeStream(bufferingPolicy: .bufferingNewest(1000))
            self.webhook = continuation
            let unsent = self.unsent
            Task {
                for await notice in stream {
                    await webhook.send(notice)
                    unsent.withLock { $0 -= 1 }
                }
            }
        } else {
            self.webhook = nil
        }
    }

    deinit { webhook?.finish() }

    /// Reports whether a condition holds now (nil = it does not).
    public func observe(_ kind: AlertKind, subject: String = "", _ condition: AlertCondition?) {
        let now = clock.now
        let notices = book.withLock { $0.observe(kind, subject: subject, condition, now: now) }
        announce(notices)
    }

    /// Raises debounced alerts that are due and repeats open ones; call about once a second.
    public func tick() {
        let now = clock.now
        let notices = book.withLock { $0.tick(now: now) }
        announce(notices)
    }

    /// Waits (at most `limit`) until every notice was handed to the webhook; used before a fatal exit
    /// so the operator hears why Warden stopped.
    public func flush(limit: Duration = .seconds(5)) async {
        let deadline = ContinuousClock.now.advanced(by: limit)
        while unsent.withLock({ $0 }) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    public var open: [Alert] { book.withLock { $0.open } }
    public var recent: [Alert] { book.withLock { $0.recent } }
    public func isOpen(_ kind: AlertKind, subject: String = "") -> Bool { book.withLock { $0.isOpen(kind, subject: subject) } }

    private func announce(_ notices: [AlertNotice]) {
        guard !notices.isEmpty else { return }
        for notice in notices {
            let alert = notice.alert
            let metadata: Logger.Metadata = ["alert": "\(alert.kind.rawValue)", "severity": "\(alert.severity.rawValue)"]
            switch notice {
            case .raised:
                logger.log(level: alert.severity == .critical ? .critical : .warning, "alert raised: \(alert.kind.rawValue): \(alert.message)", metadata: metadata)
            case .repeated:
                logger.log(level: alert.severity == .critical ? .critical : .warning, "alert still open: \(alert.kind.rawValue): \(alert.message)", metadata: metadata)
            case .severityChanged:
                logger.log(level: alert.severity == .critical ? .critical : .warning, "alert now \(alert.severity.rawValue): \(alert.kind.rawValue): \(alert.message)", metadata: metadata)
            case .resolved:
                logger.notice("alert resolved: \(alert.kind.rawValue)", metadata: metadata)
            }
            if let webhook {
                unsent.withLock { $0 += 1 }
                webhook.yield(notice)
            }
        }
        metrics?.openAlerts(open.count)
    }
}

/// Posts alert notices to `alerts.webhook_url`: a Discord webhook gets an embed, any other URL the JSON
/// alert object. Failures are retried with backoff and then dropped with a log line; they never block
/// enforcement.
public struct AlertWebhook: Sendable {
    public let url: String
    let transport: any HTTPTransport
    let retryDelays: [Duration]
    let sleep: @Sendable (Duration) async -> Void
    let logger: Logger

    public init(url: String, transport: any HTTPTransport, retryDelays: [Duration] = [.seconds(1), .seconds(5), .seconds(30)],
                sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) },
                logger: Logger = Logger(label: "warden.alerts.webhook")) {
        self.url = url
        self.transport = transport
        self.retryDelays = retryDelays
        self.sleep = sleep
        self.logger = logger
    }

    /// A Discord webhook URL (`https://discord.com/api/webhooks/…`, also discordapp.com, ptb., canary.).
    public var isDiscordWebhook: Bool {
        guard let components = URLComponents(string: url), let host = components.host?.lowercased() else { return false }
        let hosts: Set<String> = ["discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"]
        return hosts.contains(host) && components.path.hasPrefix("/api/webhooks/")
    }

    /// The body posted for one notice.
    public func body(for notice: AlertNotice) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        let alert = notice.alert
        guard isDiscordWebhook else { return Array(try encoder.encode(alert)) }
        let verb = switch notice {
        case .raised: "raised"
        case .repeated: "still open"
        case .severityChanged: "now \(alert.severity.rawValue)"
        case .resolved: "resolved"
        }
        let color = if case .resolved = notice { 0x2ECC71 } else if alert.severity == .critical { 0xE74C3C } else { 0xF39C12 }
        let embed = DiscordEmbed(title: "Warden alert \(verb): \(alert.kind.rawValue)",
                                 description: String(alert.message.prefix(4000)), color: color,
                                 fields: [.init(name: "severity", value: alert.severity.rawValue)],
                                 timestamp: alert.resolvedAt ?? alert.raisedAt)
        return Array(try encoder.encode(DiscordWebhookBody(embeds: [embed])))
    }

    func send(_ notice: AlertNotice) async {
        guard let body = try? body(for: notice) else { return }
        let request = HTTPRequest(method: .post, url: url, headers: ["Content-Type": "application/json"], body: body)
        for attempt in 0...retryDelays.count {
            do {
                let response = try await transport.send(request)
                if (200..<300).contains(response.status) { return }
                if response.status < 500 && response.status != 429 {
                    logger.error("alert webhook refused the notice", metadata: ["status": "\(response.status)"])
                    return
                }
            } catch {
                if attempt == retryDelays.count {
                    logger.error("alert webhook unreachable; notice dropped", metadata: ["error": "\(error)"])
                }
            }
            if attempt < retryDelays.count { await sleep(retryDelays[attempt]) }
        }
    }
}

struct DiscordWebhookBody: Encodable {
    var embeds: [DiscordEmbed]
}

struct DiscordEmbed: Encodable {
    struct Field: Encodable { var name: String; var value: String }
    var title: String
    var description: String
    var color: Int
    var fields: [Field]
    var timestamp: Date
}
