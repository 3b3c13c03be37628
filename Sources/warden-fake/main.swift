// warden-fake: DiscordFake as its own process, for tests written in other languages (the Alliance Auth
// app's end-to-end test drives it from Python). It serves the fake Discord (gateway, REST, OAuth) on
// one loopback port and a small JSON control endpoint on another, prints one JSON line with both
// addresses and the fake's credentials on stdout, and runs until SIGTERM or SIGINT.
// docs/discord-fake.md, "warden-fake", lists the control routes.
import DiscordFake
import DiscordModels
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments.dropFirst()
var seed = FakeSeed()
var configuration = FakeConfiguration()
configuration.heartbeatInterval = 5_000
configuration.identifyConcurrencyWindow = nil
var iterator = arguments.makeIterator()
while let argument = iterator.next() {
    switch argument {
    case "--members":
        guard let value = iterator.next(), let count = Int(value), count >= 0 else { FakeCLI.usage() }
        seed.generatedMembers = count
    case "--roles":
        guard let value = iterator.next() else { FakeCLI.usage() }
        seed.roleNames = value.split(separator: ",").map(String.init)
    case "--guild-name":
        guard let value = iterator.next() else { FakeCLI.usage() }
        seed.guildName = value
    case "--heartbeat-ms":
        guard let value = iterator.next(), let ms = Int(value), ms > 0 else { FakeCLI.usage() }
        configuration.heartbeatInterval = ms
    default:
        FakeCLI.usage()
    }
}

let discord = FakeDiscord(configuration: configuration, seed: seed)
try await discord.start()
let control = FakeControl(discord: discord)
let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
let app = Application(
    router: control.router(),
    configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: nil),
    onServerRunning: { channel in
        portContinuation.yield(channel.localAddress?.port ?? 0)
        portContinuation.finish()
    }
)
// The control server runs in a service group that ends on SIGTERM / SIGINT.
let group = ServiceGroup(configuration: ServiceGroupConfiguration(
    services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint],
    logger: Logger(label: "warden-fake")))
let server = Task { try await group.run() }
var controlPort = 0
for await port in portStream { controlPort = port }
guard controlPort > 0 else { FakeCLI.fail("the control endpoint did not start") }

let application = discord.application
let ready: [String: String] = [
    "control_url": "http://127.0.0.1:\(controlPort)",
    "api_base_url": discord.apiBaseURL,
    "gateway_url": discord.gatewayURL,
    "authorize_url": discord.authorizeURL,
    "app_id": String(application.id.rawValue),
    "app_secret": application.secret.revealed,
    "bot_token": discord.botToken.revealed,
    "bot_user_id": String(discord.botUser.id.rawValue),
    "guild_id": String(discord.guildID.rawValue),
    "owner_id": String(discord.ownerID.rawValue),
]
FakeCLI.printLine(try String(decoding: JSONSerialization.data(withJSONObject: ready, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))

// Runs until SIGTERM / SIGINT ends the group; then the fake closes its gateway sessions.
_ = await server.result
await discord.stop()
exit(0)
