// DiscordGateway: see docs/ARCHITECTURE.md.
