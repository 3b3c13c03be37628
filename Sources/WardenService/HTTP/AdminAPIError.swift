import Crypto
import Foundation
import Hummingbird
import Logging

/// An admin API refusal, answered as `{"error": "…"}` with its status. The text names the bad field
/// and never carries a secret or echoes a presented token.
public struct AdminAPIError: Error, Hashable, Sendable, CustomStringConvertible, HTTPResponseError {
    public var status: HTTPResponse.Status
    public var message: String

    public init(status: HTTPResponse.Status, message: String) {
        self.status = status
        self.message = message
    }

    public static func badRequest(_ message: String) -> AdminAPIError { AdminAPIError(status: .badRequest, message: message) }
    public static func notFound(_ message: String) -> AdminAPIError { AdminAPIError(status: .notFound, message: message) }
    public static let unauthorized = AdminAPIError(
        status: .unauthorized, message: "authorization: a valid 'Authorization: Bearer <admin_token>' header is required")

    public var description: String { "\(status.code) \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONResponse.make(status: status, json: ["error": message])
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }
}

/// Builds JSON responses.
enum JSONResponse {
    static func make<T: Encodable>(status: HTTPResponse.Status = .ok, json value: T) -> Response {
        let data = (try? AdminJSON.encode(value)) ?? Data(#"{"error":"the response did not encode"}"#.utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func noContent() -> Response { Response(status: .noContent) }
}

/// Checks the admin API's bearer token in constant time. The configured token and the presented one
/// are both reduced to an HMAC-SHA256 under a key drawn at random for this process, and the two 32-byte
/// codes are compared without an early exit: the time taken says nothing about where (or whether) they
/// differ, nor about the token's length.
struct AdminTokenVerifier: Sendable {
    private let key: [UInt8]
    private let expected: [UInt8]
    private let isUsable: Bool

    init(token: String) {
        var generator = SystemRandomNumberGenerator()
        key = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        isUsable = !token.isEmpty
        expected = Self.code(Array(token.utf8), key: key)
    }

    /// Whether an `Authorization` header value carries the admin token (`Bearer <token>`, scheme case-insensitive).
    func accepts(authorization header: String?) -> Bool {
        guard isUsable, let header else { return false }
        let bytes = Array(header.utf8)
        let scheme = Array("bearer ".utf8)
        // ASCII lower-casing of the scheme only: letters get 0x20 set, the space must be a space.
        guard bytes.count > scheme.count,
              zip(bytes.prefix(scheme.count), scheme).allSatisfy({ $1 == 0x20 ? $0 == 0x20 : ($0 | 0x20) == $1 }) else {
            return false
        }
        var presented = bytes[scheme.count...]
        while presented.first == 0x20 { presented = presented.dropFirst() }
        let code = Self.code(Array(presented), key: key)
        var difference: UInt8 = 0
        for index in 0..<expected.count { difference |= expected[index] ^ code[index] }
        return difference == 0
    }

    private static func code(_ bytes: [UInt8], key: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: bytes, using: SymmetricKey(data: key)))
    }
}

/// Answers `/api` requests that lack the admin token with 401, after logging the failure (client address
/// and path; never the token offered, nor the query) and a delay that grows with the address's
/// consecutive failures (``AdminLoginThrottle``). A request with the token resets its address.
struct AdminTokenMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    let verifier: AdminTokenVerifier
    let throttle: AdminLoginThrottle
    /// Waits out a delay (suspending the task); tests record it instead.
    let pause: @Sendable (Duration) async -> Void
    let metrics: WardenMetrics
    let logger: Logger

    /// Failures logged per address before only every hundredth is: a flood must not flood the log too.
    static var loggedFailures: Int { 5 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let client = HTTPConnectionLimits.describe(context.remoteAddress)
        guard verifier.accepts(authorization: request.headers[.authorization]) else {
            let (failures, delay) = throttle.failed(from: client)
            metrics.adminAuthenticationFailure()
            if failures <= Self.loggedFailures || failures % 100 == 0 {
                logger.warning("admin API authentication failed", metadata: [
                    "client": "\(client)", "path": "\(request.uri.path.prefix(200))", "failures": "\(failures)",
                    "delay_ms": "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)",
                ])
            }
            await pause(delay)
            return try AdminAPIError.unauthorized.response(from: request, context: context)
        }
        throttle.succeeded(from: client)
        return try await next(request, context)
    }
}
