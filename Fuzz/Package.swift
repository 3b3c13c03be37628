// swift-tools-version: 6.1
// libFuzzer targets for Warden's untrusted-input paths. A separate package so that the main package's
// `swift build` and `swift test` never see it. Its modules are the main package's own sources (symlinks
// in Modules/), and each fuzzer links the entry point that `swift test` replays over the kept corpus
// (Tests/Fuzz/Corpus). Build and run with Fuzz/run.sh; see RELIABILITY.md.
import PackageDescription

let package = Package(
    name: "WardenFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .systemLibrary(name: "CLibWebSockets", path: "Modules/CLibWebSockets", pkgConfig: "libwebsockets"),
        .systemLibrary(name: "CCurl", path: "Modules/CCurl", pkgConfig: "libcurl"),
        .systemLibrary(name: "CZlib", path: "Modules/CZlib", pkgConfig: "zlib"),
        .target(name: "DiscordModels", path: "Modules/DiscordModels"),
        .target(name: "DiscordGateway", dependencies: [
            "DiscordModels", "CLibWebSockets", "CZlib", .product(name: "Logging", package: "swift-log"),
        ], path: "Modules/DiscordGateway"),
        .target(name: "DiscordREST", dependencies: [
            "DiscordModels", "CCurl", .product(name: "Logging", package: "swift-log"),
        ], path: "Modules/DiscordREST"),
        .target(name: "GuildState", dependencies: ["DiscordModels"], path: "Modules/GuildState"),
        .target(name: "AuthModels", dependencies: ["DiscordModels"], path: "Modules/AuthModels"),
        .target(name: "AuthStore", dependencies: ["AuthModels", "DiscordModels", .product(name: "GRDB", package: "GRDB.swift")],
                path: "Modules/AuthStore"),
        .target(name: "RoleSync", dependencies: ["DiscordModels", "AuthModels"], path: "Modules/RoleSync"),
        .target(name: "WardenConfig", dependencies: ["DiscordModels", "RoleSync"], path: "Modules/WardenConfig"),
        .target(name: "WardenLogging", dependencies: [.product(name: "Logging", package: "swift-log")],
                path: "Modules/WardenLogging"),
        .target(name: "WardenService", dependencies: [
            "DiscordModels", "DiscordREST", "DiscordGateway", "GuildState", "AuthModels", "AuthStore", "RoleSync",
            "WardenConfig", "WardenLogging",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], path: "Modules/WardenService"),

        .executableTarget(name: "FuzzZlibStream", dependencies: ["DiscordGateway", "DiscordModels", "CZlib"]),
        .executableTarget(name: "FuzzGatewayPayload", dependencies: ["DiscordGateway", "DiscordModels", "CZlib"]),
        .executableTarget(name: "FuzzConfig", dependencies: ["WardenConfig", "DiscordModels"]),
        .executableTarget(name: "FuzzAdminJSON", dependencies: ["WardenService", "AuthModels", "AuthStore"]),
    ],
    swiftLanguageModes: [.v6]
)
