import DiscordModels

/// A PostgreSQL store as `store.url` gives it (libpq's URI form, SPEC 7):
/// `postgres://USER[:PASSWORD]@HOST[:PORT][/DATABASE][?sslmode=MODE]` (or `postgresql://`).
/// User, password and database are percent-decoded; the database defaults to the user's name, the port
/// to 5432, `sslmode` to `prefer`, as libpq has them. Only TCP hosts; `sslmode` is the only parameter.
public struct StoreURL: Sendable, Equatable {
    /// libpq's `sslmode` values (what each does with postgres-nio: docs/configuration.md).
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    /// The password in the URL, if it has one.
    public var password: Secret?
    public var database: String
    public var sslMode: SSLMode

    /// Why a URL was refused (the message never repeats the URL, which may hold a password).
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    public init(host: String, port: Int = 5432, username: String, password: Secret? = nil, database: String? = nil,
                sslMode: SSLMode = .prefer) {
        self.host = host; self.port = port; self.username = username; self.password = password
        self.database = database ?? username; self.sslMode = sslMode
    }

    public init(_ text: String) throws(Invalid) {
        func invalid(_ reason: String) -> Invalid { Invalid(description: reason) }
        let rest: Substring
        if text.hasPrefix("postgres://") {
            rest = text.dropFirst("postgres://".count)
        } else if text.hasPrefix("postgresql://") {
            rest = text.dropFirst("postgresql://".count)
        } else {
            throw invalid("must start with postgres:// or postgresql:// (a SQLite store is store.path)")
        }
        guard !text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 }) else {
            throw invalid("must not contain spaces or control characters")
        }
        var authorityAndPath = rest
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            authorityAndPath = rest[..<mark]
            query = rest[rest.index(after: mark)...]
        }
        var authority = authorityAndPath
        var path: Substring = ""
        if let slash = authorityAndPath.firstIndex(of: "/") {
            authority = authorityAndPath[..<slash]
            path = authorityAndPath[authorityAndPath.index(after: slash)...]
        }
        guard let at = authority.lastIndex(of: "@") else {
            throw invalid("must name the database user: postgres://USER@HOST/DATABASE")
        }
        let userInfo = authority[..<at]
        let hostPort = authority[authority.index(after: at)...]
        let rawUser = userInfo.firstIndex(of: ":").map { userInfo[..<$0] } ?? userInfo
        guard let user = Self.decoded(rawUser), !user.isEmpty else { throw invalid("must name the database user: postgres://USER@HOST/DATABASE") }
        username = user
        if let colon = userInfo.firstIndex(of: ":") {
            guard let secret = Self.decoded(userInfo[userInfo.index(after: colon)...]) else { throw invalid("has a badly percent-encoded password") }
            password = secret.isEmpty ? nil : Secret(secret)
        } else {
            password = nil
        }
        // Host: a name, an IPv4 address or an IPv6 address in brackets; then an optional port.
        var hostPart = hostPort
        var portPart: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw invalid("has an unclosed [ in its host") }
            hostPart = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("has something after its host that is not a port") }
                portPart = after.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            hostPart = hostPort[..<colon]
            portPart = hostPort[hostPort.index(after: colon)...]
        }
        guard !hostPart.isEmpty, hostPart.allSatisfy({ $0.isLetter || $0.isNumber || "-._:".contains($0) }) else {
            throw invalid("must name the server's host (a Unix socket is not supported: use 127.0.0.1)")
        }
        host = String(hostPart)
        if let portPart {
            guard let number = Int(portPart), (1...65535).contains(number) else { throw invalid("has an invalid port") }
            port = number
        } else {
            port = 5432
        }
        guard let name = Self.decoded(path) else { throw invalid("has a badly percent-encoded database name") }
        database = name.isEmpty ? user : name
        var mode = SSLMode.prefer
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            let value = parts.count > 1 ? Self.decoded(parts[1]) ?? "" : ""
            guard key == "sslmode" else {
                throw invalid("has the parameter \"\(key)\", which Warden does not support (only sslmode; the CA is store.ca_file)")
            }
            guard let chosen = SSLMode(rawValue: value) else {
                throw invalid("sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            mode = chosen
        }
        sslMode = mode
    }

    /// The URL without its password: what logs, errors and `check-config` show.
    public var redacted: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(username)@\(hostPart):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
    }

    private static func decoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
