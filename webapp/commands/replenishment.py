"""CLI commands of this area (filled in by its issue)."""

commands: list = []
