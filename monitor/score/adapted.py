"""The model a watch scores with when its calibration is a fine-tuned one (monitor/learn/fine_tune.py):
made once per process from the weights stored with the calibration and the model in use, then kept."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from monitor.errors import ScoringError
from monitor.store.adapted_models import adapted_weights

if TYPE_CHECKING:
    from monitor.score.run import Model

log = logging.getLogger(__name__)
KEPT = 8  # adapted models held in memory at once (each about 25 MB of int8 weights and its session)
_kept: OrderedDict[tuple[str, str], Model] = OrderedDict()
_guard = threading.Lock()


def adapted_model(connection: Connection, base: Model, calibration_id: int, sha256: str) -> Model:
    """The fine-tuned model of calibration `calibration_id`, adapted from `base`. A ScoringError says
    why it cannot be made (the caller scores with `base` instead, so nothing goes unscored)."""
    key = (base.version, sha256)
    with _guard:
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]
    from models import ModelError, SentimentModel
    from models.adapted import materialise

    directory = getattr(base, "directory", None)
    if not isinstance(directory, Path):
        raise ScoringError(
            f"calibration #{calibration_id} is a fine-tuned model, but {base.version} "
            "has no local directory to adapt"
        )
    stored = adapted_weights(connection, calibration_id)
    if stored is None or stored.sha256 != sha256:
        raise ScoringError(
            f"the fine-tuned weights of calibration #{calibration_id} are missing from the store"
        )
    try:
        made = materialise(
            directory, stored.weights, adapted_from=base.version, note={"calibration_id": calibration_id}
        )
        model: Model = SentimentModel.load(made)
    except ModelError as exc:
        raise ScoringError(
            f"cannot load the fine-tuned model of calibration #{calibration_id}: {exc}"
        ) from None
    log.info("loaded the fine-tuned model of calibration #%d (%s)", calibration_id, model.version)
    with _guard:
        _kept[key] = model
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return model
