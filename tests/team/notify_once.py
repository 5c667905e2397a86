"""One scheduled notify run, as `grumble run`'s scheduler or a `grumble worker` does it, for the
config at argv[1]: test_two_processes.py starts two at once."""

from __future__ import annotations

import sys

from monitor.config import load_config
from monitor.jobs import Jobs
from monitor.store.engine import connect

if __name__ == "__main__":
    config = load_config(sys.argv[1])
    Jobs.for_config(config, connect(config.database_url)).notify_team()
