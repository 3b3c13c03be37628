/// Why a configuration cannot be used: one or more issues, each naming the key by its full dotted
/// path (`discord.bot_token`) and, when the value came from the environment, the variable
/// (`DISCORD_BOT_TOKEN`). Messages never contain a secret: they say what was expected and what kind
/// of value was found, never the value itself.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Issue: Sendable, Equatable, CustomStringConvertible {
        /// The dotted path of the key (`discord.name_formats.Member`), or nil for a file-level problem.
        public var key: String?
        /// The environment variable the value came from, if it came from the environment.
        public var variable: String?
        public var message: String

        public init(key: String?, variable: String? = nil, message: String) {
            self.key = key
            self.variable = variable
            self.message = message
        }

        public var description: String {
            switch (variable, key) {
            case let (variable?, key?): return "\(variable) (\(key)): \(message)"
            case let (variable?, nil): return "\(variable): \(message)"
            case let (nil, key?): return "\(key): \(message)"
            case (nil, nil): return message
            }
        }
    }

    public var issues: [Issue]

    public init(issues: [Issue]) { self.issues = issues }
    public init(key: String?, variable: String? = nil, message: String) {
        self.issues = [Issue(key: key, variable: variable, message: message)]
    }

    /// One issue per line.
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
