#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An absolute URL from the configuration, checked when loaded: an allowed scheme, a host, an
/// optional port, no user name or password. Keeps the text as written.
public struct ConfigURL: Sendable, Hashable, CustomStringConvertible {
    /// The URL as written in the configuration.
    public let absoluteString: String
    /// Lower-cased: `https`, `http`, `wss`, `ws`.
    public let scheme: String
    /// The host; an IPv6 address keeps its brackets (`[::1]`).
    public let host: String
    public let port: Int?
    /// The path, "" or starting with "/" (query and fragment excluded).
    public let path: String
    public let query: String?

    /// True for `https` and `wss`: TLS with peer verification.
    public var isSecure: Bool { scheme == "https" || scheme == "wss" }

    /// True when the host is a loopback one: `localhost`, an address in 127.0.0.0/8, `::1` (or 127.0.0.0/8
    /// mapped into IPv6). Plain `http://` and `ws://` are accepted only for these (SPEC 3.2).
    public var isLoopback: Bool { LoopbackHost.contains(host) }

    /// `scheme://host[:port]`, without path or query: safe to show when the path may hold a token
    /// (a Discord webhook URL does).
    public var origin: String { "\(scheme)://\(host)" + (port.map { ":\($0)" } ?? "") }

    public var description: String { absoluteString }

    public enum ParseError: Error, Equatable {
        case notAbsolute, scheme, host, port, userInfo, whitespace
    }

    /// For constants known to be valid.
    init(verbatim: String, scheme: String, host: String, port: Int?, path: String, query: String? = nil) {
        self.absoluteString = verbatim
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.query = query
    }

    /// `http://<listen>`: the default public URL of a listen address.
    public init(derivedFrom listen: ListenAddress) {
        let host = listen.host.contains(":") ? "[\(listen.host)]" : listen.host
        self.init(verbatim: "http://\(listen)", scheme: "http", host: host, port: listen.port, path: "")
    }

    /// Parses `text` and requires one of `schemes` (lower-case names).
    public init(_ text: String, schemes: Set<String>) throws(ParseError) {
        guard !text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) else {
            throw .whitespace
        }
        guard let separator = text.range(of: "://") else { throw .notAbsolute }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard !scheme.isEmpty, scheme.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E }) else {
            throw .notAbsolute
        }
        guard schemes.contains(scheme) else { throw .scheme }
        let rest = text[separator.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard !authority.contains("@") else { throw .userInfo }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .host }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .host }
                portText = after.dropFirst()
            }
            let inner = host.dropFirst().dropLast()
            guard !inner.isEmpty, inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { throw .host }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw .host }
        if !host.hasPrefix("[") {
            guard host.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "." || $0 == "-" || $0 == "_" || $0 == "~" || $0 == "%" }) else {
                throw .host
            }
        }
        var port: Int?
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCII), let value = Int(portText), (1...65535).contains(value) else {
                throw .port
            }
            port = value
        }
        let remainder = rest[authorityEnd...]
        let pathEnd = remainder.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? remainder.endIndex
        let queryText: Substring? = remainder[pathEnd...].hasPrefix("?")
            ? remainder[remainder.index(after: pathEnd)...].prefix(while: { $0 != "#" }) : nil
        self.absoluteString = text
        self.scheme = scheme
        self.host = String(host)
        self.port = port
        self.path = String(remainder[..<pathEnd])
        self.query = queryText.map(String.init)
    }
}

/// The address the HTTP server listens on: `host:port`, with an IPv6 host in brackets
/// (`[::1]:8080`). Port 0 asks the system for a free port (tests).
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// The host without brackets: `127.0.0.1`, `::1`, `0.0.0.0`, `localhost`.
    public let host: String
    public let port: Int

    public init?(_ text: String) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
            guard hostPart.contains(":"), hostPart.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            guard hostPart.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }) else { return nil }
        }
        guard !hostPart.isEmpty, !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = Int(portPart), port <= 65535 else { return nil }
        self.host = String(hostPart)
        self.port = port
    }

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, brackets around an IPv6 host.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Which host names and addresses are loopback ones, by their text alone (no name resolution: only the
/// name `localhost` itself counts, as RFC 6761 reserves it). Addresses are parsed by `inet_pton`.
enum LoopbackHost {
    /// - Parameter host: a host name, a dotted IPv4 address, or an IPv6 address with or without brackets.
    static func contains(_ host: String) -> Bool {
        var name = host.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        if name == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, name, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, name, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes == Array(repeating: 0, count: 15) + [1] { return true }
        // ::ffff:127.x.y.z, an IPv4 loopback address mapped into IPv6.
        return bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127
    }
}
