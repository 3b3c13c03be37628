// The `warden` command line; see WardenCommand.swift and WardenCLI.swift.
import Foundation

exit(WardenCLI.run(Array(CommandLine.arguments.dropFirst()), in: .process))
