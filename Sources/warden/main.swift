// The `warden` command line; see WardenCommand.swift and WardenCLI.swift.
import Foundation

exit(await WardenCLI.run(Array(CommandLine.arguments.dropFirst()), in: .process))
