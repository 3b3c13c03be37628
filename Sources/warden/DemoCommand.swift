import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import WardenDemo
import WardenLogging

/// `warden demo [--keep-running] [--members N]`: the whole daemon against an embedded simulated Discord on
/// 127.0.0.1, with a narrated script of real events (SPEC 5). No Discord account, no credentials, no network.
/// Exit 0 when every step happened as narrated, 1 otherwise.
struct DemoCommand: WardenSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run Warden against a simulated Discord guild on loopback and narrate what it does."
    )

    @Flag(name: .long, help: "Stay up after the script (admin API and the fake's URLs printed) until SIGINT/SIGTERM.")
    var keepRunning = false

    @Option(name: .long, help: ArgumentHelp("Generated guild members.", valueName: "N"))
    var members = 50

    func validate() throws {
        guard (8...100_000).contains(members) else { throw ValidationError("--members must be between 8 and 100000") }
    }

    func execute(in context: CommandContext) async -> Int32 {
        // The daemon's own log lines would drown the narration: only warnings and worse, on stderr.
        LoggingBootstrap.bootstrap(level: .warning, format: .text, redactor: Redactor(secrets: []))
        let printer = DemoPrinter(context.standardOutput)
        printer.print("Warden demo: the real daemon against a simulated Discord guild on 127.0.0.1 (no account, no network).")
        let demo = WardenDemo(options: WardenDemoOptions(members: members), output: { printer.print($0) })
        let stayUp: (@Sendable (WardenDemoEndpoints) async -> Void)? = if keepRunning {
            { _ in await Self.waitForTermination() }
        } else {
            nil
        }
        return await demo.run(keepRunning: stayUp)
    }

    /// Returns on SIGINT or SIGTERM.
    static func waitForTermination() async {
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: ClosureService { try await gracefulShutdown() })],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "warden.demo")))
        try? await group.run()
    }
}

/// The command's output writer, callable from the demo's tasks: one line at a time, under a lock.
final class DemoPrinter: @unchecked Sendable {
    // `write` is only called while `lock` is held, so the non-Sendable closure is never used concurrently.
    private let write: (String) -> Void
    private let lock = NSLock()

    init(_ write: @escaping (String) -> Void) { self.write = write }

    func print(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        write(line)
    }
}
