#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file a secret was read from (`discord.bot_token_file`, `discord.app_secret_file`,
/// `http.admin_token_file`, or their variables such as `WARDEN_ADMIN_TOKEN_FILE`). A secrets file that
/// other users can read gives the secret away however well Warden keeps it out of its logs, so `warden`
/// warns about one (SPEC 3.2). The warning names the key, the path and the mode, never the content.
public struct SecretFile: Sendable, Hashable {
    /// The key it was given by (`http.admin_token_file`).
    public var key: String
    /// The environment variable it came from, if it came from one.
    public var variable: String?
    public var path: String

    public init(key: String, variable: String? = nil, path: String) {
        self.key = key
        self.variable = variable
        self.path = path
    }

    /// The permission bits of the file at `path` (symbolic links followed, as reading does); nil when it
    /// cannot be examined.
    public static func mode(ofFileAt path: String) -> UInt32? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt32(info.st_mode) & 0o7777
    }

    /// A warning when the file's group or other users may read it; nil when only its owner may (or it
    /// cannot be examined: reading it already said so).
    public func exposureWarning(mode: (String) -> UInt32? = SecretFile.mode(ofFileAt:)) -> String? {
        guard let bits = mode(path), bits & 0o044 != 0 else { return nil }
        let name = variable.map { "\($0) (\(key))" } ?? key
        let readers = bits & 0o004 != 0 ? "every user" : "its group"
        let octal = String(bits, radix: 8)
        return "\(name): the secrets file \"\(path)\" is readable by \(readers) (mode \(String(repeating: "0", count: max(0, 4 - octal.count)) + octal)); "
            + "make it readable by its owner only: chmod 600 \"\(path)\""
    }
}
