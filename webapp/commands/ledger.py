"""CLI commands of this area."""

commands: list = []
