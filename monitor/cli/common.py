"""What every command shares: exit codes and reading the configuration the global options name."""

from __future__ import annotations

import argparse
from importlib import resources

from monitor.config import Config, load_config

EXIT_ERROR = 1
EXIT_CONFIG = 2


def config_of(args: argparse.Namespace) -> Config:
    return load_config(args.config, database_url=args.database)


def example_config() -> str:
    return resources.files("monitor").joinpath("example_config.toml").read_text(encoding="utf-8")
