"""CLI subcommands, one per module; see ``ipam_model.cli.app``."""
