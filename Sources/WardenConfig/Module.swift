// WardenConfig: see docs/ARCHITECTURE.md.
