import DiscordModels
import DiscordREST
import Foundation
import WardenConfig

/// Talks to the running daemon's admin API (SPEC 3.3) for the client-side subcommands. Every request
/// carries `Authorization: Bearer <admin_token>`; the token never appears in an error or output.
struct AdminAPIClient {
    /// `http(s)://host[:port][/prefix]`, no trailing slash.
    let baseURL: String
    /// Where the address came from (`--url`, `WARDEN_URL`, `http.listen`, `http.public_url`), for messages.
    let addressOrigin: String
    private let adminToken: Secret
    private let transport: any HTTPTransport
    private let timeout: Duration

    init(_ daemon: AdminClientConfiguration, transport: any HTTPTransport, timeout: Duration = .seconds(30)) {
        self.baseURL = daemon.baseURL.absoluteString
        self.addressOrigin = daemon.addressOrigin
        self.adminToken = daemon.adminToken
        self.transport = transport
        self.timeout = timeout
    }

    /// An answer of the admin API: its status and body.
    struct Answer: Sendable {
        var status: Int
        var body: [UInt8]

        /// The body as a JSON value, or nil when it is not JSON.
        var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(body)) }
    }

    /// Sends one request and returns the answer when its status is 2xx; any other status is an
    /// `AdminAPIError` carrying the server's `error` text.
    func send(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil) async throws(AdminAPIError) -> Answer {
        var headers: HTTPHeaders = ["Authorization": "Bearer \(adminToken.revealed)", "Accept": "application/json"]
        if body != nil { headers.add(name: "Content-Type", value: "application/json") }
        let request = HTTPRequest(method: method, url: baseURL + path, headers: headers, body: body, timeout: timeout)
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch let error as HTTPTransportError {
            throw .unreachable(baseURL: baseURL, origin: addressOrigin, reason: Self.reason(error))
        } catch {
            throw .unreachable(baseURL: baseURL, origin: addressOrigin, reason: "interrupted")
        }
        let answer = Answer(status: response.status, body: response.body)
        switch response.status {
        case 200..<300:
            return answer
        case 401:
            throw .unauthorized
        default:
            throw .refused(status: response.status, message: Self.serverMessage(answer))
        }
    }

    private static func reason(_ error: HTTPTransportError) -> String {
        switch error {
        case .timeout: "no answer in time"
        case .network(let message): message
        case .cancelled: "interrupted"
        }
    }

    /// The server's `{"error": "…"}` text, else the body if it is short printable text, else nil.
    private static func serverMessage(_ answer: Answer) -> String? {
        if let text = answer.json?["error"]?.stringValue { return text }
        let text = String(decoding: answer.body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}

/// Why an admin API request gave no usable answer. Descriptions are for the operator and never hold
/// the admin token.
enum AdminAPIError: Error, Equatable, CustomStringConvertible {
    /// No HTTP answer: connection refused, timeout.
    case unreachable(baseURL: String, origin: String, reason: String)
    /// 401: the daemon did not accept the admin token.
    case unauthorized
    /// Any other non-2xx status, with the server's error text when it gave one.
    case refused(status: Int, message: String?)
    /// A 2xx answer whose body is not what the contract says.
    case unexpectedAnswer(String)

    var description: String {
        switch self {
        case let .unreachable(baseURL, origin, reason):
            "cannot reach the Warden daemon at \(baseURL) (\(reason)); is `warden run` running? (address from \(origin))"
        case .unauthorized:
            "the daemon refused the admin token (401): check that WARDEN_ADMIN_TOKEN, WARDEN_ADMIN_TOKEN_FILE or the configuration's http.admin_token(_file) holds the running daemon's"
        case let .refused(status, message?):
            "the daemon answered \(status): \(message)"
        case let .refused(status, nil):
            "the daemon answered \(status)"
        case let .unexpectedAnswer(what):
            "unexpected answer from the daemon: \(what)"
        }
    }
}
