// Fuzz entry point of the configuration loader, shared by the libFuzzer target (Fuzz/, which links
// this very file) and the regression replay in `swift test` (ConfigFuzzRegressionTests). The input is
// a configuration document from a careless or hostile operator; it must be accepted or refused with a
// message, never crash. Invariant: a secret read from a `*_file` never appears in the outcome.
import DiscordModels
import WardenConfig

enum ConfigFuzzOutcome: Equatable, Sendable {
    case accepted
    case refused(String)
}

enum ConfigFuzz {
    /// The contents of every file the document names (e.g. `"bot_token_file": "/s"`): a secret.
    static let fileSecret = "FUZZ-file-secret-3b8e1f6a2c9d-7e5f0a41"

    static func run(_ input: [UInt8]) -> ConfigFuzzOutcome {
        let environment = ["WARDEN_LOG_LEVEL": "info"]
        do {
            let configuration = try WardenConfiguration.parse(input, source: "fuzz.json", environment: environment) { _ in
                Array(fileSecret.utf8)
            }
            precondition(!String(describing: configuration).contains(fileSecret), "a secret in the configuration's description")
            return .accepted
        } catch {
            let text = error.description
            precondition(!text.contains(fileSecret), "a secret in a configuration error")
            return .refused(text)
        }
    }
}
