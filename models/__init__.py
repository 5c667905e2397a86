"""Grumble's sentiment model: the bundled fine-tuned MiniLM, or any Hugging Face classifier.

Inference only (this package's top level and models.backends); training, evaluation and the data
they read are in models.training, which needs the `train` extra.
"""

from models.bundle import DEFAULT_MODEL_DIR, ModelError
from models.labels import LABELS
from models.sentiment import Score, SentimentModel

__all__ = ["DEFAULT_MODEL_DIR", "LABELS", "ModelError", "Score", "SentimentModel"]
