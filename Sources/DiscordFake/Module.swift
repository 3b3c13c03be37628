// DiscordFake: see docs/ARCHITECTURE.md.
