"""Registers the pipeline subcommands (plan, build, export, import) with the CLI."""
