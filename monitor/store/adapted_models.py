"""The fine-tuned part of a watch's calibration (models/adapted.py), read back by whoever scores the
watch; `calibrations.save_calibration` stores it with its calibration, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from monitor.store.schema import adapted_models


@dataclass(frozen=True)
class AdaptedWeights:
    calibration_id: int
    sha256: str
    weights: bytes
    recipe: dict[str, Any]


def adapted_sha(connection: Connection, calibration_id: int) -> str | None:
    """The hash of a calibration's fine-tuned weights, without reading the weights (about 14 MB)."""
    sha = connection.scalar(
        select(adapted_models.c.sha256).where(adapted_models.c.calibration_id == calibration_id)
    )
    return None if sha is None else str(sha)


def adapted_weights(connection: Connection, calibration_id: int) -> AdaptedWeights | None:
    row = connection.execute(
        select(adapted_models).where(adapted_models.c.calibration_id == calibration_id)
    ).first()
    if row is None:
        return None
    return AdaptedWeights(row.calibration_id, row.sha256, bytes(row.weights), dict(row.recipe))
