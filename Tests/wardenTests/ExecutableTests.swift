import Foundation
import Testing

/// The built `warden` binary, run as a subprocess: checks what the in-process tests cannot, that
/// main.swift hands WardenCLI's status to the operating system.
@Suite("The warden executable")
struct ExecutableTests {
    /// `swift build --build-tests` and `swift test` put the executable next to the test bundle.
    static func binary() -> URL? {
        var directory = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("warden")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
               FileManager.default.isExecutableFile(atPath: candidate.path) {
                return candidate
            }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }

    struct Result {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        guard let binary = binary() else {
            Issue.record("the warden executable was not found next to the test bundle (\(Bundle.main.bundleURL.path))")
            return Result(status: -1, standardOutput: "", standardError: "")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { _, new in new }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, standardOutput: String(decoding: outData, as: UTF8.self),
                      standardError: String(decoding: errData, as: UTF8.self))
    }

    @Test func exitStatusesReachTheShell() throws {
        let ok = try Self.run(["check-config", "--config", examplePath], environment: secretsEnvironment)
        #expect(ok.status == 0, "\(ok.standardError)")
        #expect(ok.standardOutput.hasSuffix("configuration OK\n"))
        #expect(!ok.standardOutput.contains(sentinelToken))

        let bad = try Self.run(["check-config", "--config", examplePath], environment: ["DISCORD_BOT_TOKEN": sentinelToken])
        #expect(bad.status == 2)
        #expect(bad.standardError.contains("discord.app_secret"))
        #expect(!bad.standardError.contains(sentinelToken))

        let usage = try Self.run(["check-config", "--no-such-option"])
        #expect(usage.status == 2)
        #expect(usage.standardError.contains("--no-such-option"))

        let help = try Self.run(["--help"])
        #expect(help.status == 0)
        #expect(help.standardOutput.contains("check-config"))
    }
}
