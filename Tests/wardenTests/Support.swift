import Foundation
import WardenConfig
@testable import warden

/// Shaped like a Discord bot token (first part: base64 of a bot id); never issued.
let sentinelToken = "ODAzNTExMTAyMjQ2Nzg5MTIw.GxYzAb.U2VudGluZWxUb2tlbk5ldmVyUHJpbnRNZQ"
let sentinelAppSecret = "sentinel-app-secret-0b1c2d3e4f"
let sentinelAdminToken = "sentinel-admin-token-9a8b7c6d"

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let examplePath = repositoryRoot.appendingPathComponent("config.example.json").path

/// Runs the `warden` command line in-process with a given environment and files, capturing its output.
final class CommandRun {
    var standardOutput: [String] = []
    var standardError: [String] = []
    let status: Int32

    init(_ arguments: [String], environment: [String: String] = [:], files: [String: String] = [:]) {
        var out: [String] = []
        var err: [String] = []
        let context = CommandContext(
            environment: environment,
            readFile: { path in
                if let text = files[path] { return Array(text.utf8) }
                return try WardenConfiguration.readFileFromDisk(path)
            },
            standardOutput: { out.append($0) },
            standardError: { err.append($0) })
        status = WardenCLI.run(arguments, in: context)
        standardOutput = out
        standardError = err
    }

    var output: String { standardOutput.joined(separator: "\n") }
    var errors: String { standardError.joined(separator: "\n") }
}

let secretsEnvironment = [
    "DISCORD_BOT_TOKEN": sentinelToken, "DISCORD_APP_SECRET": sentinelAppSecret, "WARDEN_ADMIN_TOKEN": sentinelAdminToken,
]
