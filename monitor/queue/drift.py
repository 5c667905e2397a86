"""Config drift: a worker on another grumble.toml than the scheduler's.

Jobs name their watch, source or list, and each worker reads those names in its own config; a worker
started before a watch was added skips that watch's jobs. So every worker records a fingerprint of
its config with its row, the elected scheduler records its own, and `grumble status`, /metrics and the
log name the workers whose fingerprint differs.

The fingerprint covers what jobs mean and what the scheduler queues (watches, digest lists, alerts and
the schedule), not what rightly differs between machines (database address, model path, mail server,
ports): those would call every machine drifted. It is a truncated SHA-256, so nothing in the config
can be read back from it.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.config import Config
from monitor.store.queue import scheduler_config_hash

FINGERPRINT_CHARS = 12


def config_hash(config: Config) -> str:
    # repr of frozen dataclasses and tuples: stable for equal settings, changed by any edit to them.
    meaning = repr((config.watches, config.digests, config.alerts, config.schedule))
    return hashlib.sha256(meaning.encode("utf-8")).hexdigest()[:FINGERPRINT_CHARS]


# What a worker says of a job naming a watch, source or list it does not know, when the scheduler that
# queued it runs another config: the name is not gone, this worker never had it.
NOT_CONFIGURED_HERE = (
    "not configured in this worker's grumble.toml (its config differs from the scheduler's; restart it)"
)


def unknown_name(config: Config, engine: Engine, usual: str) -> str:
    """Why a job naming something `config` lacks is skipped: `usual` (e.g. "no longer configured"),
    or NOT_CONFIGURED_HERE when the elected scheduler recorded another fingerprint than this config's."""
    try:
        theirs = scheduler_config_hash(engine)
    except SQLAlchemyError:  # the skip is logged either way; the usual words are then the best guess
        return usual
    return NOT_CONFIGURED_HERE if theirs is not None and theirs != config_hash(config) else usual
