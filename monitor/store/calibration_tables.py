"""What a watch learned from its people's corrections (monitor/learn/): every fitted set of class offsets,
which one each watch uses now, and the history of changes, so that any change can be undone. A mention's
score names the calibration that gave it (`mentions.calibration_id`, declared with the mention)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, LargeBinary, String, Table, Text

from monitor.store.dialects import UTCDateTime
from monitor.store.mention_tables import metadata

# One row per `grumble learn` that fitted offsets for a watch, activated or refused: what was fitted on
# how many corrections, what cross-validation and the multi-domain check said, and why it was decided so.
calibrations = Table(
    "calibrations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("watch", String(128), nullable=False),
    # The model the offsets were fitted on: another model's scores do not take them.
    Column("model_version", String(128), nullable=False),
    Column("offsets", JSON, nullable=False),  # [negative, neutral, positive], added to log-probabilities
    Column("target", String(40), nullable=False),  # the operating point: "macro-f1" or "recall>=0.88"
    Column("corrections", Integer, nullable=False),
    Column("report", JSON, nullable=False),
    Column("decision", String(16), nullable=False),  # activated | refused
    Column("reason", Text, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_calibrations_watch", "watch", "id"),
)

# The calibration each watch scores with now; no row, or calibration_id None, is the model as shipped.
active_calibrations = Table(
    "active_calibrations",
    metadata,
    Column("watch", String(128), primary_key=True),
    Column("calibration_id", Integer, ForeignKey("calibrations.id", ondelete="CASCADE")),
    Column("since", UTCDateTime(), nullable=False),
    Column("changed_by", String(128), nullable=False),
)

# Every change of a watch's active calibration (activate, rollback): what was active before and after.
calibration_events = Table(
    "calibration_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("watch", String(128), nullable=False),
    Column("action", String(16), nullable=False),
    Column("calibration_id", Integer),
    Column("previous_id", Integer),
    Column("actor", String(128), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_calibration_events_watch", "watch", "id"),
)

# A calibration that is a fine-tuned model rather than offsets alone: the tensors fine-tuning changed
# (models/adapted.py), kept here so that every worker of a deployment scores the watch with them.
adapted_models = Table(
    "adapted_models",
    metadata,
    Column("calibration_id", Integer, ForeignKey("calibrations.id", ondelete="CASCADE"), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("weights", LargeBinary, nullable=False),
    Column("recipe", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)
