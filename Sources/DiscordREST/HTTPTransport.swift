/// The HTTP seam under the Discord REST client: the rate limiter and the endpoints never see libcurl,
/// so tests drive them with a fake transport, and the libcurl transport is tested on its own.

/// The HTTP methods Discord's REST API uses.
public enum HTTPMethod: String, Sendable, Hashable, CustomStringConvertible {
    case get = "GET"
    case put = "PUT"
    case post = "POST"
    case patch = "PATCH"
    case delete = "DELETE"

    public var description: String { rawValue }
}

/// One header line.
public struct HTTPHeaderField: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(name: String, value: String) { self.name = name; self.value = value }
}

/// Header fields in wire order. Lookup by name ignores ASCII case (HTTP/2 sends lower-case names).
public struct HTTPHeaders: Sendable, Hashable, ExpressibleByDictionaryLiteral, Sequence {
    public private(set) var fields: [HTTPHeaderField]

    public init(_ fields: [HTTPHeaderField] = []) { self.fields = fields }
    public init(dictionaryLiteral elements: (String, String)...) {
        fields = elements.map { HTTPHeaderField(name: $0.0, value: $0.1) }
    }

    /// The first value of the named header, or nil.
    public subscript(name: String) -> String? {
        fields.first { Self.namesMatch($0.name, name) }?.value
    }

    /// Every value of the named header, in order.
    public func values(for name: String) -> [String] {
        fields.filter { Self.namesMatch($0.name, name) }.map(\.value)
    }

    public mutating func add(name: String, value: String) {
        fields.append(HTTPHeaderField(name: name, value: value))
    }

    /// Replaces every field of that name with one field.
    public mutating func replaceOrAdd(name: String, value: String) {
        fields.removeAll { Self.namesMatch($0.name, name) }
        fields.append(HTTPHeaderField(name: name, value: value))
    }

    public mutating func removeAll() { fields.removeAll(keepingCapacity: true) }

    public var isEmpty: Bool { fields.isEmpty }
    public func makeIterator() -> IndexingIterator<[HTTPHeaderField]> { fields.makeIterator() }

    static func namesMatch(_ a: String, _ b: String) -> Bool {
        let x = a.utf8, y = b.utf8
        guard x.count == y.count else { return false }
        for (p, q) in zip(x, y) where p != q {
            // ASCII letters differ by 0x20 between cases; anything else must match exactly.
            let lp = (p >= 0x41 && p <= 0x5A) ? p | 0x20 : p
            let lq = (q >= 0x41 && q <= 0x5A) ? q | 0x20 : q
            if lp != lq { return false }
        }
        return true
    }
}

/// One HTTP request. Its description shows the method and URL only: headers (Authorization) and
/// bodies (OAuth2 secrets) never reach a log line or an error through it.
public struct HTTPRequest: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var method: HTTPMethod
    public var url: String
    public var headers: HTTPHeaders
    /// nil: no body. For PUT, POST and PATCH the transport then sends `Content-Length: 0`.
    public var body: [UInt8]?
    /// The whole exchange (connect, send, receive) must finish within this time.
    public var timeout: Duration

    public init(method: HTTPMethod, url: String, headers: HTTPHeaders = [:], body: [UInt8]? = nil,
                timeout: Duration = .seconds(30)) {
        self.method = method; self.url = url; self.headers = headers; self.body = body; self.timeout = timeout
    }

    public var description: String { "\(method) \(url)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["method": method, "url": url], displayStyle: .struct) }
}

/// One HTTP response, whatever its status (a 429 or a 500 is a response, not a transport error).
public struct HTTPResponse: Sendable, Hashable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status; self.headers = headers; self.body = body
    }
}

/// Why no response arrived. Task cancellation is reported as `CancellationError`, not as `.cancelled`.
public enum HTTPTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The connect or total timeout passed.
    case timeout
    /// Connection refused or reset, DNS, TLS (including a failed peer verification), a refused URL scheme.
    case network(String)
    /// The transport was shut down while the request was pending.
    case cancelled

    public var description: String {
        switch self {
        case .timeout: "HTTP request timed out"
        case .network(let message): "HTTP request failed: \(message)"
        case .cancelled: "HTTP request cancelled: the transport shut down"
        }
    }
}

/// Sends HTTP requests. Every method may be called from any task.
public protocol HTTPTransport: Sendable {
    /// Sends the request and returns the response, whatever its status. Throws `HTTPTransportError`,
    /// or `CancellationError` when the calling task is cancelled.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}
