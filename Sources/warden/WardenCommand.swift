import ArgumentParser

/// `warden`: the root command. Subcommands arrive with the issues that build them (SPEC 3.1).
struct WardenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warden",
        abstract: "Keeps a Discord guild's roles and nicknames in line with Auth.",
        discussion: """
            Exit codes: 0 ok, 1 runtime failure, 2 bad configuration or usage, \
            3 a fatal Discord refusal that needs the operator.
            """,
        subcommands: [
            RunCommand.self, CheckConfigCommand.self, CallCommand.self, LinkURLCommand.self, AddBotURLCommand.self,
            UsersCommand.self, StatusCommand.self, DemoCommand.self,
        ]
    )
}
