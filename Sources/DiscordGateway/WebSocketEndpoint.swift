/// Where a WebSocket connection goes, read from a `ws://` or `wss://` URL.
///
/// The URL comes from configuration or from Discord (`resume_gateway_url`), so it is untrusted: anything
/// that is not a plain `ws[s]://host[:port][/path][?query]` is rejected with a clear error, including
/// credentials in the URL, fragments, spaces, control characters and non-ASCII bytes (which would
/// otherwise end up in the HTTP request line).
struct WebSocketEndpoint: Sendable, Equatable {
    /// `wss://`: TLS with peer verification and hostname check.
    var secure: Bool
    /// The host to resolve and connect to; an IPv6 literal without its brackets.
    var host: String
    var port: Int
    /// Path and query for the request line, always starting with "/".
    var path: String

    /// The value of the `Host` header: the host (IPv6 in brackets) and the port unless it is the default.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (secure ? 443 : 80) ? name : "\(name):\(port)"
    }

    init(secure: Bool, host: String, port: Int, path: String) {
        self.secure = secure
        self.host = host
        self.port = port
        self.path = path
    }

    init(parsing url: String) throws(WebSocketConnectError) {
        let bytes = Array(url.utf8)
        guard !bytes.isEmpty else { throw WebSocketConnectError("empty URL") }
        for byte in bytes where byte <= 0x20 || byte >= 0x7F {
            throw WebSocketConnectError("URL contains a space, a control character or a non-ASCII byte")
        }
        guard let schemeEnd = Self.find(Array("://".utf8), in: bytes) else {
            throw WebSocketConnectError("URL has no scheme (expected ws:// or wss://)")
        }
        switch String(decoding: bytes[..<schemeEnd], as: UTF8.self).lowercased() {
        case "wss": secure = true
        case "ws": secure = false
        default: throw WebSocketConnectError("unsupported URL scheme (expected ws:// or wss://)")
        }
        let rest = bytes[(schemeEnd + 3)...]
        guard !rest.contains(UInt8(ascii: "#")) else {
            throw WebSocketConnectError("a WebSocket URL must not have a fragment")
        }
        let authorityEnd = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? rest.endIndex
        let authority = rest[rest.startIndex..<authorityEnd]
        guard !authority.contains(UInt8(ascii: "@")) else {
            throw WebSocketConnectError("credentials in a WebSocket URL are not supported")
        }
        let remainder = rest[authorityEnd...]
        if remainder.isEmpty {
            path = "/"
        } else if remainder.first == UInt8(ascii: "?") {
            path = "/" + String(decoding: remainder, as: UTF8.self)
        } else {
            path = String(decoding: remainder, as: UTF8.self)
        }

        let portText: ArraySlice<UInt8>?
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else {
                throw WebSocketConnectError("unterminated IPv6 address in URL")
            }
            let literal = authority[(authority.startIndex + 1)..<close]
            let allowed = Set(Array("0123456789abcdefABCDEF:.".utf8))
            guard literal.contains(UInt8(ascii: ":")), literal.allSatisfy({ allowed.contains($0) }) else {
                throw WebSocketConnectError("invalid IPv6 address in URL")
            }
            host = String(decoding: literal, as: UTF8.self)
            let after = authority[(close + 1)...]
            if after.isEmpty {
                portText = nil
            } else if after.first == UInt8(ascii: ":") {
                portText = after.dropFirst()
            } else {
                throw WebSocketConnectError("unexpected characters after the IPv6 address in URL")
            }
        } else {
            let colon = authority.firstIndex(of: UInt8(ascii: ":"))
            let name = authority[authority.startIndex..<(colon ?? authority.endIndex)]
            guard !name.isEmpty else { throw WebSocketConnectError("URL has no host") }
            guard name.allSatisfy(Self.isHostNameByte) else {
                throw WebSocketConnectError("invalid host name in URL")
            }
            host = String(decoding: name, as: UTF8.self)
            portText = colon.map { authority[($0 + 1)...] }
        }
        guard !host.isEmpty else { throw WebSocketConnectError("URL has no host") }

        if let portText, !portText.isEmpty {
            guard portText.count <= 5, portText.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  let value = Int(String(decoding: portText, as: UTF8.self)), (1...65535).contains(value)
            else { throw WebSocketConnectError("invalid port in URL") }
            port = value
        } else {
            port = secure ? 443 : 80
        }
    }

    private static func isHostNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}
