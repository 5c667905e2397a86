"""PyTorch backend: any Hugging Face sequence classifier (local dir or hub id), fp32 on CPU."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from models.encoding import Encoder
from models.labels import label_matrix

DEFAULT_BATCH_SIZE = 64


class TorchBackend:
    name = "torch"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        max_length: int,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        device: str = "cpu",
    ) -> None:
        self.model = model.eval().to(device)
        self.device = device
        self.encoder = Encoder(tokenizer, max_length)
        self.batch_size = batch_size
        self.matrix = label_matrix(model.config.id2label)

    @classmethod
    def from_pretrained(
        cls, name_or_path: str, *, max_length: int | None = None, local_files_only: bool = False
    ) -> TorchBackend:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(name_or_path, local_files_only=local_files_only)
        # Bundled weights are stored in fp16 to keep the repo small; compute in fp32.
        model = AutoModelForSequenceClassification.from_pretrained(
            name_or_path, dtype=torch.float32, local_files_only=local_files_only
        )
        return cls(model, tokenizer, max_length or model_window(model.config, tokenizer))

    @torch.inference_mode()
    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        encoded = self.encoder.encode(texts)
        out = np.zeros((len(texts), 3), dtype=np.float32)
        for batch in self.encoder.batches(encoded, self.batch_size):
            logits = self.model(
                input_ids=torch.from_numpy(batch.input_ids).to(self.device),
                attention_mask=torch.from_numpy(batch.attention_mask).to(self.device),
            ).logits
            probs = torch.softmax(logits.float(), dim=-1).cpu().numpy()
            out[batch.indices] = probs @ self.matrix
        return out


def model_window(config: Any, tokenizer: Any) -> int:
    """Longest input the model accepts, capped at 512 (tokenizers often report 1e30)."""
    limits = [512]
    tok_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(tok_max, int) and tok_max > 0:
        limits.append(tok_max)
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        # RoBERTa reserves padding_idx + 1 positions.
        offset = 2 if getattr(config, "model_type", "") in {"roberta", "xlm-roberta", "camembert"} else 0
        limits.append(positions - offset)
    return min(limits)
