"""Registers the runtime's subcommands (build, clean, backends, doctor) with the CLI."""
