"""A stand-in model with a known, learnable bias, and a labelled history to import.

The tiny test model says "neutral" to everything (its probabilities differ by 1e-5), so nothing can be
learned from its scores. This model reads a tone written into each text ("tone -1.20") and, like the
bundled model on customer-service tweets, calls mild complaints neutral: logits (-tone, 1.0, tone) put
a neutral bias of 1.0 in front of tones that a person labels negative below -0.4 and positive above 0.4.
Offsets near (+0.6, 0, +0.6) undo that bias, so a correct learner must find and activate them.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from models import Score
from models.labels import LABELS

TONE = re.compile(r"tone ([+-]\d+\.\d+)")


class ToneModel:
    version = "tone-model-1"
    languages = frozenset({"en"})

    def predict(self, texts: Sequence[str]) -> list[Score]:
        out = []
        for text in texts:
            match = TONE.search(text)
            tone = float(match.group(1)) if match else 0.0
            logits = np.array([-tone, 1.0, tone])
            probs = np.exp(logits - logits.max())
            probs /= probs.sum()
            neg, neu, pos = (float(p) for p in probs)
            out.append(Score(LABELS[int(probs.argmax())], neg, neu, pos, language="en"))
        return out


def person_label(tone: float) -> str:
    return "negative" if tone < -0.4 else "positive" if tone > 0.4 else "neutral"


def history_rows(count: int, seed: int, *, random_labels: bool = False) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        tone = rng.gauss(0.0, 1.2)
        # People read more than the tone: their label is the tone's, give or take.
        label = rng.choice(LABELS) if random_labels else person_label(tone + rng.gauss(0.0, 0.35))
        rows.append({"id": f"h{seed}-{i}", "text": f"ticket {i} tone {tone:+.2f}", "label": label})
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def tone_model() -> ToneModel:
    return ToneModel()
