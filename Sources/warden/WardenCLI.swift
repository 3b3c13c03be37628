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
    /// Whether standard output is a terminal: `warden call` then draws a progress bar in place.
    var standardOutputIsTerminal: Bool = false
    /// Redraws the current terminal line (no newline); used only when `standardOutputIsTerminal`.
    var redrawLine: (String) -> Void = { _ in }
    /// The terminal's width in columns, when known.
    var terminalColumns: () -> Int? = { nil }
    /// The pause between two polls of a followed task; tests use zero.
    var pollInterval: Duration = .milliseconds(500)

    static var process: CommandContext {
        CommandContext(
            environment: ProcessInfo.processInfo.environment,
            readFile: WardenConfiguration.readFileFromDisk,
            standardOutput: { StandardOutput.write($0 + "\n") },
            standardError: { StandardError.write($0) },
            standardOutputIsTerminal: isatty(STDOUT_FILENO) == 1,
            redrawLine: { StandardOutput.write("\r\u{1B}[2K" + $0) },
            terminalColumns: {
                var size = winsize()
                let status = withUnsafeMutablePointer(to: &size) { ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), $0) }
                guard status == 0, size.ws_col > 0 else { return nil }
                return Int(size.ws_col)
            })
    }
}

/// A subcommand that runs inside ``WardenCLI`` with a ``CommandContext`` and returns its exit status.
protocol WardenSubcommand: ParsableCommand {
    func execute(in context: CommandContext) async -> Int32
}

/// Parses the command line, runs the command and returns the exit status. Maps swift-argument-parser's
/// usage errors (its default status is 64) to 2, as SPEC 3.1 requires; `--help` stays 0.
enum WardenCLI {
    static func run(_ arguments: [String], in context: CommandContext) async -> Int32 {
        do {
            var command = try WardenCommand.parseAsRoot(arguments)
            switch command {
            case let subcommand as any WardenSubcommand:
                return await subcommand.execute(in: context)
            case _ where !type(of: command).configuration.subcommands.isEmpty:
                // `warden` or `warden users` alone: a group without its command is a usage error.
                context.standardError(WardenCommand.helpMessage(for: type(of: command)))
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

/// Unbuffered writes to standard output, so in-place progress lines and whole lines keep their order.
enum StandardOutput {
    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
