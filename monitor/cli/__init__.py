"""The `grumble` command. Thin: parses arguments, calls the library, turns errors into messages and codes.

parser.py holds every command's arguments and `main`; the commands live by what they work on:
service.py (init, up, run, dashboard), mentions.py (collect, score, classify), files.py (import,
export), admin.py (status, hash-password), notify.py (digest, alerts).
"""

from monitor.cli.parser import build_parser, main

__all__ = ["build_parser", "main"]
