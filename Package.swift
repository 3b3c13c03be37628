// swift-tools-version: 6.1
// Warden: one always-on daemon that keeps a Discord guild's roles and nicknames in line with Auth.
// Module layout: ../shared/ARCHITECTURE.md (imports point down only); see docs/ARCHITECTURE.md.
import PackageDescription

let package = Package(
    name: "Warden",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "warden", targets: ["warden"]),
        .executable(name: "warden-bench", targets: ["warden-bench"]),
        .executable(name: "warden-fake", targets: ["warden-fake"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/pointfreeco/swift-clocks", from: "1.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // The PostgreSQL store for several instances (SPEC 7).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // TLS options of the PostgreSQL connection (already under postgres-nio).
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // The HTTP server's connection limits are NIO channel handlers (already under Hummingbird).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        // Tests only: reads deploy/monitoring's Prometheus rules (YAML) to check their metric names.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // C system libraries: a module map and a small shim header each, nothing else.
        .systemLibrary(name: "CLibWebSockets", pkgConfig: "libwebsockets", providers: [.apt(["libwebsockets-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Discord's data: snowflakes, permissions, roles, members, gateway payloads, error bodies.
        .target(name: "DiscordModels"),
        // Gateway: session state machine, zlib-stream, libwebsockets transport.
        .target(name: "DiscordGateway", dependencies: [
            "DiscordModels", "CLibWebSockets", "CZlib",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // REST: typed endpoints, rate limiter, libcurl transport.
        .target(name: "DiscordREST", dependencies: [
            "DiscordModels", "CCurl",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The live guild cache.
        .target(name: "GuildState", dependencies: ["DiscordModels"]),
        // Auth's values: the user record, its main character, the import form, the Discord link. No I/O.
        .target(name: "AuthModels", dependencies: ["DiscordModels"]),
        // Auth's records, links, reserved names, notifications, task state, the leader lease: one store,
        // two backends (SQLite via GRDB, the embedded default; PostgreSQL via postgres-nio).
        .target(name: "AuthStore", dependencies: [
            "AuthModels", "DiscordModels",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Pure policy: desired roles and nickname of a member, the plan of writes. No I/O.
        .target(name: "RoleSync", dependencies: ["DiscordModels", "AuthModels"]),
        // Configuration file, environment overrides and secrets files.
        .target(name: "WardenConfig", dependencies: ["DiscordModels", "RoleSync"]),
        // swift-log handlers: text and JSON lines, with secret redaction at the sink.
        .target(name: "WardenLogging", dependencies: [.product(name: "Logging", package: "swift-log")]),
        // The daemon: enforcement, tasks, alerts, linking, the HTTP server (admin API, OAuth, health, metrics).
        .target(name: "WardenService", dependencies: [
            "DiscordModels", "DiscordREST", "DiscordGateway", "GuildState", "AuthModels", "AuthStore", "RoleSync",
            "WardenConfig", "WardenLogging",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // A simulated Discord (gateway + REST + OAuth) for tests, benchmarks and `warden demo`.
        .target(name: "DiscordFake", dependencies: [
            "DiscordModels", "CZlib",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
        ]),
        // `warden demo`: the daemon against DiscordFake with a narrated script (kept out of the daemon's core).
        .target(name: "WardenDemo", dependencies: [
            "WardenService", "DiscordFake", "WardenConfig", "AuthModels", "AuthStore", "DiscordModels", "DiscordREST", "DiscordGateway",
            "RoleSync",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The command line.
        .executableTarget(name: "warden", dependencies: [
            "WardenConfig", "WardenLogging", "DiscordModels", "WardenService", "DiscordGateway", "WardenDemo", "AuthStore",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), "DiscordREST",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The benchmarks of SPEC section 4: `swift run -c release warden-bench [--json] [--quick]`.
        .executableTarget(name: "warden-bench", dependencies: [
            "DiscordModels", "DiscordGateway", "DiscordREST", "GuildState", "AuthModels", "AuthStore", "RoleSync", "WardenService",
            "WardenConfig", "DiscordFake", "CZlib",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // DiscordFake as its own process with a JSON control endpoint, for tests in other languages
        // (the Alliance Auth app's end-to-end test). docs/discord-fake.md, "warden-fake".
        .executableTarget(name: "warden-fake", dependencies: [
            "DiscordFake", "DiscordModels",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        .testTarget(name: "CLibrariesTests", dependencies: ["CLibWebSockets", "CCurl", "CZlib"]),
        .testTarget(name: "DiscordModelsTests", dependencies: ["DiscordModels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "WardenConfigTests", dependencies: ["WardenConfig"]),
        .testTarget(name: "WardenLoggingTests", dependencies: [
            "WardenLogging", .product(name: "Logging", package: "swift-log"),
        ]),
        // DiscordFake for its `ManualClock`, which drives the client's and the limiter's timers.
        .testTarget(name: "DiscordGatewayTests", dependencies: ["DiscordGateway", "DiscordModels", "CZlib", "DiscordFake"]),
        .testTarget(name: "DiscordRESTTests", dependencies: ["DiscordREST", "DiscordModels", "DiscordFake"]),
        .testTarget(name: "GuildStateTests", dependencies: ["GuildState", "DiscordModels"]),
        // A real PostgreSQL for tests: one cluster per test process, a database per test.
        .target(name: "PostgresTesting", dependencies: [
            "AuthStore", "DiscordModels",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Tests/PostgresTesting"),
        .testTarget(name: "AuthStoreTests", dependencies: [
            "AuthModels", "AuthStore", "DiscordModels", "PostgresTesting",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "RoleSyncTests", dependencies: ["RoleSync", "AuthModels", "DiscordModels"]),
        .testTarget(name: "IntegrationTests", dependencies: [
            "DiscordGateway", "DiscordREST", "DiscordFake", "DiscordModels", "GuildState", "CZlib",
            "WardenService", "WardenConfig", "AuthModels", "AuthStore", "WardenDemo",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "Yams", package: "Yams"),
        ]),
        .testTarget(name: "WardenServiceTests", dependencies: [
            "WardenService", "DiscordModels", "GuildState", "AuthModels", "AuthStore", "RoleSync", "WardenConfig", "DiscordREST",
            .product(name: "Clocks", package: "swift-clocks"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .testTarget(name: "wardenTests", dependencies: [
            "warden", "WardenConfig", "WardenLogging", "DiscordModels",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Hummingbird", package: "hummingbird"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
