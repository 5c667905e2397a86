"""What the global options `--log-format json` and `--version` print."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    """The installed package's version, as pip and `pyproject.toml` know it."""
    try:
        return version("grumble")
    except PackageNotFoundError:
        # Run from a source tree that was never installed: say so rather than invent a number.
        return "unknown (not installed)"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, and the exception's
    traceback as `exception` when the record has one. Log collectors parse these without a regex,
    and a message with newlines stays one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)
