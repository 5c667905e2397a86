"""Grumble's sentiment model: the bundled fine-tuned MiniLM, or any Hugging Face classifier."""

from models.labels import LABELS
from models.sentiment import DEFAULT_MODEL_DIR, ModelError, Score, SentimentModel

__all__ = ["DEFAULT_MODEL_DIR", "LABELS", "ModelError", "Score", "SentimentModel"]
