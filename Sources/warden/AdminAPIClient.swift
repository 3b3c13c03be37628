import DiscordModels
import DiscordREST
import Foundation
import WardenConfig

/// Talks to the running daemon's admin API (SPEC 3.3) for the client-side subcommands. Every request
/// carries `Authorization: Bearer <admin_token>`; the token never appears in an error or output.
struct AdminAPIClient {
    /// `http://host:port`, no trailing slash.
    let baseURL: String
    /// The `http.listen` address as configured, for messages.
    let listen: ListenAddress
    private let adminToken: Secret
    private let transport: any HTTPTransport
    private let timeout: Duration

    init(listen: ListenAddress, adminToken: Secret, transport: any HTTPTransport, timeout: Duration = .seconds(30)) {
        self.listen = listen
        self.baseURL = Self.baseURL(for: listen)
        self.adminToken = adminToken
        self.transport = transport
        self.timeout = timeout
    }

    /// The daemon listens on `http.listen`; a wildcard address (`0.0.0.0`, `::`) is reached on loopback.
    static func baseURL(for listen: ListenAddress) -> String {
        let host: String = switch listen.host {
        case "0.0.0.0", "": "127.0.0.1"
        case "::", "::0": "[::1]"
        case let host where host.contains(":"): "[\(host)]"
        case let host: host
        }
        return "http://\(host):\(listen.port)"
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
            throw .unreachable(baseURL: baseURL, listen: listen.description, reason: Self.reason(error))
        } catch {
            throw .unreachable(baseURL: baseURL, listen: listen.description, reason: "interrupted")
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
    case unreachable(baseURL: String, listen: String, reason: String)
    /// 401: the daemon did not accept the admin token.
    case unauthorized
    /// Any other non-2xx status, with the server's error text when it gave one.
    case refused(status: Int, message: String?)
    /// A 2xx answer whose body is not what the contract says.
    case unexpectedAnswer(String)

    var description: String {
        switch self {
        case let .unreachable(baseURL, listen, reason):
            "cannot reach the Warden daemon at \(baseURL) (\(reason)); is `warden run` running? (http.listen = \(listen))"
        case .unauthorized:
            "the daemon refused the admin token (401): check http.admin_token (or admin_token_file, WARDEN_ADMIN_TOKEN) matches the running daemon's"
        case let .refused(status, message?):
            "the daemon answered \(status): \(message)"
        case let .refused(status, nil):
            "the daemon answered \(status)"
        case let .unexpectedAnswer(what):
            "unexpected answer from the daemon: \(what)"
        }
    }
}
