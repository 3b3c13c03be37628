import Foundation
import WardenConfig
@testable import warden

/// Shaped like a Discord bot token (first part: base64 of a bot id); never issued.
let sentinelToken = "ODAzNTExMTAyMjQ2Nzg5MTIw.GxYzAb.U2VudGluZWxUb2tlbk5ldmVyUHJpbnRNZQ"
let sentinelAppSecret = "sentinel-app-secret-0b1c2d3e4f"
let sentinelAdminToken = "sentinel-admin-token-9a8b7c6d5e4f3a2b"

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let examplePath = repositoryRoot.appendingPathComponent("config.example.json").path

/// Runs the `warden` command line in-process with a given environment and files, capturing its output.
final class CommandRun {
    var standardOutput: [String] = []
    var standardError: [String] = []
    /// What a terminal would have seen redrawn in place (progress bars), when run as on a terminal.
    var redrawnLines: [String] = []
    let status: Int32

    init(_ arguments: [String], environment: [String: String] = [:], files: [String: String] = [:], terminal: Bool = false) async {
        let captured = CapturedOutput()
        let context = CommandContext(
            environment: environment,
            readFile: { path in
                if let text = files[path] { return Array(text.utf8) }
                return try WardenConfiguration.readFileFromDisk(path)
            },
            standardOutput: { captured.out.append($0) },
            standardError: { captured.err.append($0) },
            standardOutputIsTerminal: terminal,
            redrawLine: { captured.redrawn.append($0) },
            pollInterval: .zero)
        status = await WardenCLI.run(arguments, in: context)
        standardOutput = captured.out
        standardError = captured.err
        redrawnLines = captured.redrawn
    }

    var output: String { standardOutput.joined(separator: "\n") }
    var errors: String { standardError.joined(separator: "\n") }
}

/// Lines written by one in-process run (one task writes them, then the run reads them).
private final class CapturedOutput {
    var out: [String] = []
    var err: [String] = []
    var redrawn: [String] = []
}

let secretsEnvironment = [
    "DISCORD_BOT_TOKEN": sentinelToken, "DISCORD_APP_SECRET": sentinelAppSecret, "WARDEN_ADMIN_TOKEN": sentinelAdminToken,
]
