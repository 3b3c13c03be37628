import ArgumentParser

struct WardenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "warden", abstract: "Keeps a Discord guild's roles in line with Auth.")
}
