// DiscordREST: see docs/ARCHITECTURE.md.
