import ArgumentParser
import Foundation
import WardenConfig

/// Exit statuses (SPEC 3.1).
enum ExitStatus {
    static let success: Int32 = 0
    static let runtimeFailure: Int32 = 1
    /// Bad configuration or usage.
    static let badConfiguration: Int32 = 2
    static let fatalDiscordRefusal: Int32 = 3
}

/// What a command may touch of the outside world; tests give their own.
struct CommandContext {
    var environment: [String: String]
    var readFile: (String) throws -> [UInt8]
    var standardOutput: (String) -> Void
    var standardError: (String) -> Void

    static var process: CommandContext {
        CommandContext(
            environment: ProcessInfo.processInfo.environment,
            readFile: WardenConfiguration.readFileFromDisk,
            standardOutput: { print($0) },
            standardError: { StandardError.write($0) })
    }
}

/// Parses the command line, runs the command and returns the exit status. Maps swift-argument-parser's
/// usage errors (its default status is 64) to 2, as SPEC 3.1 requires; `--help` stays 0.
enum WardenCLI {
    static func run(_ arguments: [String], in context: CommandContext) -> Int32 {
        do {
            var command = try WardenCommand.parseAsRoot(arguments)
            switch command {
            case let checkConfig as CheckConfigCommand:
                return checkConfig.execute(in: context)
            case is WardenCommand:
                // `warden` alone: no command given is a usage error.
                context.standardError(WardenCommand.helpMessage())
                return ExitStatus.badConfiguration
            default:
                // swift-argument-parser's own commands (help): they answer by throwing.
                try command.run()
                return ExitStatus.success
            }
        } catch {
            let message = WardenCommand.fullMessage(for: error)
            let code = WardenCommand.exitCode(for: error)
            if code == .success {
                if !message.isEmpty { context.standardOutput(message) }
                return ExitStatus.success
            }
            if !message.isEmpty { context.standardError(message) }
            return code == .validationFailure ? ExitStatus.badConfiguration : code.rawValue
        }
    }
}

enum StandardError {
    static func write(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
