// WardenLogging: see docs/ARCHITECTURE.md.
