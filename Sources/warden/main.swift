// The `warden` command line; see WardenCommand.swift.
WardenCommand.main()
