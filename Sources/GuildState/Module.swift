// GuildState: see docs/ARCHITECTURE.md.
