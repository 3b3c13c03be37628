@testable import DiscordREST
import DiscordModels
import Foundation

/// Counts events and lets a test await the n-th one, with a real-time timeout so a missing event
/// fails the test instead of hanging it.
actor EventCounter {
    private(set) var count = 0
    private var waiters: [UInt64: (target: Int, continuation: CheckedContinuation<Bool, Never>)] = [:]
    private var nextID: UInt64 = 0

    func increment() {
        count += 1
        for (id, waiter) in waiters where waiter.target <= count {
            waiters[id] = nil
            waiter.continuation.resume(returning: true)
        }
    }

    /// true once `count >= target`; false if that did not happen within `timeout`.
    func wait(for target: Int, timeout: Duration = .seconds(60)) async -> Bool {
        if count >= target { return true }
        let id = nextID
        nextID += 1
        return await withCheckedContinuation { continuation in
            waiters[id] = (target, continuation)
            Task { [weak self] in
                try? await Task.sleep(for: timeout)
                await self?.expire(id)
            }
        }
    }

    private func expire(_ id: UInt64) {
        waiters.removeValue(forKey: id)?.continuation.resume(returning: false)
    }
}

/// An `HTTPTransport` that records requests and answers from a script (the last entry repeats).
final class FakeHTTPTransport: HTTPTransport {
    typealias Answer = @Sendable (HTTPRequest) async throws -> HTTPResponse
    private let answers: Locked<[Answer]>
    let recorded = Locked<[HTTPRequest]>([])
    let calls = EventCounter()

    init(_ answers: [Answer]) { self.answers = Locked(answers) }
    convenience init(responses: [HTTPResponse]) { self.init(responses.map { response in { _ in response } }) }
    convenience init(_ response: HTTPResponse) { self.init(responses: [response]) }

    var requests: [HTTPRequest] { recorded.withLock { $0 } }
    var count: Int { recorded.withLock { $0.count } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        recorded.withLock { $0.append(request) }
        let answer = answers.withLock { answers in answers.count > 1 ? answers.removeFirst() : answers[0] }
        await calls.increment()
        return try await answer(request)
    }
}

enum Fixture {
    static let guild: Snowflake = 81_384_788_765_712_384
    static let user: Snowflake = 80_351_110_224_678_912
    static let role: Snowflake = 41_771_983_423_143_936
    static let token = Secret("MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs")

    static func json(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func bucketHeaders(_ bucket: String, limit: Int, remaining: Int, resetAfter: Double,
                              scope: String = "user") -> HTTPHeaders {
        ["X-RateLimit-Limit": "\(limit)", "X-RateLimit-Remaining": "\(remaining)",
         "X-RateLimit-Reset-After": "\(resetAfter)", "X-RateLimit-Bucket": bucket, "X-RateLimit-Scope": scope]
    }

    static let memberJSON = #"{"user":{"id":"80351110224678912","username":"bruce"},"roles":["41771983423143936"],"nick":"Bruce","joined_at":"2020-01-01T00:00:00Z"}"#

    static func member(id: UInt64) -> String {
        #"{"user":{"id":"\#(id)","username":"u\#(id)"},"roles":[]}"#
    }

    static func configuration(maxRetries: Int = 3, retryPause: Duration = .seconds(60)) -> DiscordRESTConfiguration {
        DiscordRESTConfiguration(botToken: token, apiBaseURL: "https://discord.test/api/v10", version: "1.2.3",
                                 maxRetries: maxRetries, retryPause: retryPause)
    }
}

/// Collects observer reports.
final class ReportCollector: RESTObserver {
    let reports = Locked<[RESTRequestReport]>([])
    func requestFinished(_ report: RESTRequestReport) { reports.withLock { $0.append(report) } }
    var all: [RESTRequestReport] { reports.withLock { $0 } }
}
