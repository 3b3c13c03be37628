import Foundation
import Testing
@testable import WardenConfig

/// A bot token shaped like Discord's (base64 of a user id, a timestamp part, an HMAC part).
/// Fake: it was never issued.
let sentinelToken = "ODAzNTExMTAyMjQ2Nzg5MTI.GxYzAb.Sentinel0Token0NeverPrint0abcdefghijk"
let sentinelSecret = "SENTINEL-app-secret-7f3c9a1b2d4e"
let sentinelAdmin = "SENTINEL-admin-token-5a6b7c8d9e0f1a2b"

/// A small in-memory file system for `readFile`.
struct Files {
    var contents: [String: String] = [:]
    func read(_ path: String) throws -> [UInt8] {
        guard let text = contents[path] else { throw FileReadError(reason: "no such file") }
        return Array(text.utf8)
    }
}

/// The smallest valid configuration: the required keys only.
func minimalConfig(discord extraDiscord: String = "", http extraHTTP: String = "", more: String = "") -> String {
    """
    {
      "discord": {
        "app_id": "111111111111111111",
        "app_secret": "\(sentinelSecret)",
        "bot_token": "\(sentinelToken)",
        "callback_url": "https://auth.example.com/discord/callback/",
        "guild_id": "222222222222222222"\(extraDiscord.isEmpty ? "" : ",\n    " + extraDiscord)
      },
      "http": {
        "admin_token": "\(sentinelAdmin)"\(extraHTTP.isEmpty ? "" : ",\n    " + extraHTTP)
      }\(more.isEmpty ? "" : ",\n  " + more)
    }
    """
}

func load(_ json: String, environment: [String: String] = [:], files: Files = Files()) throws(ConfigurationError) -> WardenConfiguration {
    try WardenConfiguration.parse(Array(json.utf8), source: "config.json", environment: environment, readFile: files.read)
}

/// The error a configuration gives; fails the test when it loads.
func loadError(_ json: String, environment: [String: String] = [:], files: Files = Files(),
               sourceLocation: SourceLocation = #_sourceLocation) -> ConfigurationError? {
    do {
        _ = try load(json, environment: environment, files: files)
        Issue.record("expected the configuration to be rejected", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// The repository root, found from this file's path.
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
